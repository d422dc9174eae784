#include "wm/log.h"

#include <spdlog/sinks/stdout_color_sinks.h>

namespace wm {

std::shared_ptr<spdlog::logger> log_ptr() {
  static std::shared_ptr<spdlog::logger> logger = [] {
    auto console = std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
    auto made = std::make_shared<spdlog::logger>("wm", console);
    made->set_pattern("%^[%H:%M:%S %l]%$ %v");
    made->set_level(spdlog::level::info);
    made->flush_on(spdlog::level::info);
    return made;
  }();
  return logger;
}

spdlog::logger& log() { return *log_ptr(); }

}  // namespace wm
