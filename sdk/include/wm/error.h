// Errors that carry where they came from, and an invariant check that is on in every build.
#pragma once
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace wm {

//---- where a value came from ----

// A position in a config file (1-based), or a description such as "<command line> arg 3".
struct SourceLoc {
  std::string file;
  int line = 0;
  int col = 0;
  bool known() const { return !file.empty(); }
  std::string str() const;  // "exp.yaml:14:7", "exp.yaml" or ""
};

//---- exceptions ----

// Anything wmhost reports to the user as one line. Defined out of line so that its type_info has
// one home (libwmsdk) and `catch (const wm::Error&)` works across plugin libraries.
class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message);
  ~Error() override;
};

// A bad experiment: the message reads "file:line:col: key.path: what is wrong".
class ConfigError : public Error {
 public:
  ConfigError(SourceLoc loc, std::string key_path, const std::string& message);
  ~ConfigError() override;
  const SourceLoc& loc() const { return loc_; }
  const std::string& key_path() const { return key_path_; }

 private:
  SourceLoc loc_;
  std::string key_path_;
};

// A sample that cannot be read (corrupt or truncated file, missing member). Loaders skip the
// sample, count it and list it in the run's log; the run goes on.
class DataError : public Error {
 public:
  DataError(std::string source, const std::string& message);
  ~DataError() override;
  const std::string& source() const { return source_; }

 private:
  std::string source_;
};

// the message to show a person: LibTorch's errors carry a C++ backtrace, which is cut off
std::string user_message(const std::exception& error);

//---- "did you mean" ----

// Levenshtein distance between two names
size_t edit_distance(const std::string& a, const std::string& b);
// "; did you mean 'norm'?" when a candidate is close enough, otherwise ""
std::string did_you_mean(const std::string& typo, const std::vector<std::string>& candidates);
// "a, b, c"
std::string join(const std::vector<std::string>& items, const std::string& separator = ", ");

//---- invariants ----

namespace detail {
struct CheckMessage {
  std::ostringstream text;
  template <class T>
  CheckMessage& operator<<(const T& value) {
    text << value;
    return *this;
  }
};
struct CheckThrower {
  const char* file;
  int line;
  const char* condition;
  [[noreturn]] void operator&(const CheckMessage& message) const;
};
}  // namespace detail

}  // namespace wm

// WM_CHECK(a == b) << "context"; throws wm::Error naming the condition, file and line.
#define WM_CHECK(condition)                                          \
  if (condition) {                                                   \
  } else                                                             \
    ::wm::detail::CheckThrower{__FILE__, __LINE__, #condition} &     \
        ::wm::detail::CheckMessage {}
