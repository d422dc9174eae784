// The command line, declared once in option_table() and read with boost::program_options; the
// messages for mistakes are wmhost's own (tests/test_cli.cpp), not Program_options' texts.
#include "options.h"

#include <boost/program_options.hpp>
#include <iomanip>
#include <sstream>
#include <variant>

namespace wm {
namespace {

namespace po = boost::program_options;

const char* kUsage =
    "usage: wmhost <command> [options]\n"
    "\n"
    "commands:\n"
    "  run EXP.yaml [key.path=value ...]   run an experiment (or every point of its sweep)\n"
    "  launch --nproc N -- run EXP.yaml    run it on N data-parallel ranks on this machine\n"
    "  validate EXP.yaml [key=value ...]   check an experiment without running it\n"
    "  analyze RUN_DIR [--config FILE]     run the analysis: steps again on a finished run or sweep\n"
    "  inspect EXP.yaml data.<name>        per-key statistics of a data entry's first batches\n"
    "  list [datasets|models|envs|metrics] list the plugins found\n"
    "  describe NAME                       a plugin's, procedure's or transform's parameters\n"
    "  check PLUGIN                        run the contract checks on a plugin (name or .so)\n"
    "  score --prediction P --target T     score videos made elsewhere against true ones\n"
    "\n"
    "overrides: key.path=value sets an existing key, +key.path=value adds one\n"
    "exit codes: 0 ok, 1 a run failed, 2 bad usage or experiment, 3 a run stopped early\n";

//---- the table ----

// where an option lands: a switch sets a flag, a value fills a text, a repeatable value a list
using Target = std::variant<bool Options::*, std::string Options::*,
                            std::vector<std::string> Options::*>;

struct OptionSpec {
  const char* name;   // --name
  char letter;        // -l, or 0
  const char* value;  // how --help names the value (DIR), or nullptr for a switch
  Target target;
  const char* help;
};

const std::vector<OptionSpec>& option_table() {
  // clang-format off
  static const std::vector<OptionSpec> table = {
      {"help",        'h', nullptr, &Options::help,        "show this help"},
      {"version",     0,   nullptr, &Options::version,     "print versions and exit"},
      {"plugin-path", 'p', "DIR",   &Options::plugin_dirs, "extra folder to search for plugins (repeatable; also WMHOST_PLUGIN_PATH)"},
      {"out",         'o', "DIR",   &Options::out,         "run directory (default runs/<experiment>/<time>)"},
      {"dry-run",     'n', nullptr, &Options::dry_run,     "resolve and validate, print, write nothing"},
      {"config",      'c', "FILE",  &Options::config,      "analyze: the experiment file whose analysis: to run (default: RUN_DIR's own)"},
      {"verbose",     'v', nullptr, &Options::verbose,     "log debug details"},
      {"batches",     0,   "N",     &Options::batches,     "inspect: batches to read (default 1)"},
      {"batch-size",  0,   "B",     &Options::batch_size,  "inspect, score: samples (pairs) per batch (default 8)"},
      {"params",      0,   "YAML",  &Options::params,      "check: the plugin's params, e.g. '{depth: 2}'"},
      {"data",        0,   "NAME",  &Options::data,        "check: the dataset plugin feeding a model or metric (default synthetic)"},
      {"data-params", 0,   "YAML",  &Options::data_params, "check: that dataset's params"},
      {"model",       0,   "NAME",  &Options::model,       "check: the model whose outputs feed a metric (default copy_last)"},
      {"model-params", 0,  "YAML",  &Options::model_params, "check: that model's params"},
      {"prediction",  0,   "PATH",  &Options::prediction,  "score: predicted videos, a folder or a glob"},
      {"target",      0,   "PATH",  &Options::target,      "score: true videos, a folder or a glob (paired by file name)"},
      {"metric",      'm', "NAME",  &Options::metrics,     "score: a metric plugin, or an entry as YAML '{plugin: lpips, params: {..}}' (repeatable; default psnr, ssim)"}};
  // clang-format on
  return table;
}

// the hidden option that collects the command and its arguments
const char* kWords = "words";

const OptionSpec* find_name(const std::string& name) {
  for (const auto& spec : option_table())
    if (name == spec.name) return &spec;
  return nullptr;
}

const OptionSpec* find_letter(char letter) {
  for (const auto& spec : option_table())
    if (letter == spec.letter) return &spec;
  return nullptr;
}

//---- the table, as Program_options declarations ----

po::value_semantic* semantic(const OptionSpec& spec, Options& options) {
  // a switch is a bool with no token; not po::bool_switch, which refuses `-v -v`
  if (auto flag = std::get_if<bool Options::*>(&spec.target))
    return po::value<bool>(&(options.**flag))->zero_tokens()->implicit_value(true);
  if (auto text = std::get_if<std::string Options::*>(&spec.target))
    return po::value<std::string>(&(options.**text))->value_name(spec.value);
  auto list = std::get<std::vector<std::string> Options::*>(spec.target);
  return po::value<std::vector<std::string>>(&(options.*list))->value_name(spec.value);
}

po::options_description declare(Options& options) {
  po::options_description all;
  for (const auto& spec : option_table()) {
    WM_CHECK((spec.value != nullptr) != std::holds_alternative<bool Options::*>(spec.target))
        << "--" << spec.name << ": a switch has no value name, a value has one";
    std::string names = std::string(spec.name) + (spec.letter ? std::string(",") + spec.letter : "");
    all.add_options()(names.c_str(), semantic(spec, options), spec.help);
  }
  all.add_options()(kWords, po::value<std::vector<std::string>>());
  return all;
}

// anywhere among the words, `--name value`, `--name=value`, `-l value`, `-lvalue`, `-lm`;
// names are never guessed from a prefix
constexpr int kStyle = po::command_line_style::unix_style & ~po::command_line_style::allow_guessing;

//---- mistakes, in wmhost's words ----

std::string shown(const OptionSpec& spec) { return std::string("--") + spec.name; }

UsageError needs_value(const OptionSpec& spec) {
  return UsageError(shown(spec) + " needs a value: " + shown(spec) + " " + spec.value +
                    " (a value starting with '-' as " + shown(spec) + "=VALUE)");
}

// Program_options names the whole word: `--name=value` -> `--name`, grouped `-nx` -> `-x`
UsageError unknown_word(const std::string& word) {
  std::string name = word;
  if (word.rfind("--", 0) == 0) {
    name = word.substr(0, word.find('='));
  } else {
    for (size_t at = 1; at < word.size(); ++at) {
      const OptionSpec* spec = find_letter(word[at]);
      if (!spec) {
        name = std::string("-") + word[at];
        break;
      }
      if (spec->value) break;  // the rest of the word is its value
    }
  }
  std::vector<std::string> names;
  for (const auto& spec : option_table()) names.push_back(shown(spec));
  return UsageError("unknown option '" + name + "'" +
                    (name.rfind("--", 0) == 0 ? did_you_mean(name, names) : ""));
}

// a Program_options error about a declared option ("--out"), reworded
UsageError reworded(const po::error_with_option_name& error) {
  std::string name = error.get_option_name();
  const OptionSpec* spec = find_name(name.rfind("--", 0) == 0 ? name.substr(2) : name);
  if (!spec) return UsageError(error.what());
  if (dynamic_cast<const po::multiple_occurrences*>(&error))
    return UsageError(shown(*spec) + " is given twice");
  if (auto syntax = dynamic_cast<const po::invalid_command_line_syntax*>(&error)) {
    using Kind = po::invalid_command_line_syntax::kind_t;
    if (syntax->kind() == Kind::extra_parameter) return UsageError(shown(*spec) + " takes no value");
    if (syntax->kind() == Kind::missing_parameter || syntax->kind() == Kind::empty_adjacent_parameter)
      return needs_value(*spec);
  }
  return UsageError(error.what());
}

bool looks_like_option(const std::string& word) { return word.size() > 1 && word[0] == '-'; }

}  // namespace

Options parse_options(int argc, char** argv) {
  Options options;
  po::options_description all = declare(options);
  po::positional_options_description words;
  words.add(kWords, -1);
  try {
    po::parsed_options parsed =
        po::command_line_parser(argc, argv).options(all).positional(words).style(kStyle).run();
    // what Program_options lets through: the hidden option typed by name, and a value taken from
    // the next word when that word is an option it does not know (`-o --dry-rn`)
    for (const auto& option : parsed.options) {
      if (option.string_key == kWords && option.position_key < 0)
        throw unknown_word(option.original_tokens.empty() ? "--" + option.string_key
                                                            : option.original_tokens.front());
      const OptionSpec* spec = find_name(option.string_key);
      if (spec && spec->value && option.original_tokens.size() == 2 &&
          looks_like_option(option.original_tokens[1]))
        throw needs_value(*spec);
    }
    po::variables_map values;
    po::store(parsed, values);
    po::notify(values);
    if (values.count(kWords)) {
      auto positional = values[kWords].as<std::vector<std::string>>();
      options.command = positional.front();
      options.args.assign(positional.begin() + 1, positional.end());
    }
  } catch (const po::unknown_option& error) {
    throw unknown_word(error.get_option_name());
  } catch (const po::error_with_option_name& error) {
    throw reworded(error);
  } catch (const po::error& error) {
    throw UsageError(error.what());
  }
  return options;
}

std::string usage() {
  std::ostringstream text;
  text << kUsage << "\noptions:\n";
  for (const auto& spec : option_table()) {
    std::string flags = std::string(spec.letter ? std::string("-") + spec.letter + ", " : "    ") +
                        shown(spec) + (spec.value ? std::string(" ") + spec.value : "");
    text << "  " << std::left << std::setw(24) << flags << spec.help << "\n";
  }
  return text.str();
}

}  // namespace wm
