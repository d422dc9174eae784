#include "wm/error.h"

namespace wm {

std::string SourceLoc::str() const {
  if (file.empty()) return "";
  if (line <= 0) return file;
  return file + ":" + std::to_string(line) + ":" + std::to_string(col);
}

Error::Error(const std::string& message) : std::runtime_error(message) {}
Error::~Error() = default;

static std::string config_message(const SourceLoc& loc, const std::string& key_path,
                                  const std::string& message) {
  std::string text;
  if (loc.known()) text += loc.str() + ": ";
  if (!key_path.empty()) text += key_path + ": ";
  return text + message;
}

ConfigError::ConfigError(SourceLoc loc, std::string key_path, const std::string& message)
    : Error(config_message(loc, key_path, message)),
      loc_(std::move(loc)),
      key_path_(std::move(key_path)) {}
ConfigError::~ConfigError() = default;

DataError::DataError(std::string source, const std::string& message)
    : Error(source + ": " + message), source_(std::move(source)) {}
DataError::~DataError() = default;

std::string user_message(const std::exception& error) {
  std::string message = error.what();
  return message.substr(0, message.find("\nException raised from"));
}

namespace detail {
void CheckThrower::operator&(const CheckMessage& message) const {
  std::string context = message.text.str();
  throw Error(std::string("internal check failed: ") + condition + " at " + file + ":" +
              std::to_string(line) + (context.empty() ? "" : " (" + context + ")"));
}
}  // namespace detail

}  // namespace wm
