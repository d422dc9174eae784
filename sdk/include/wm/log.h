// One logger for the host and every plugin. It lives in libwmsdk, so plugins that link the
// shared SDK write to the same console and run log as the host.
#pragma once
#include <spdlog/logger.h>

#include <memory>

namespace wm {

spdlog::logger& log();
std::shared_ptr<spdlog::logger> log_ptr();

}  // namespace wm
