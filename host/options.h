// The wmhost command line read into a plain struct: one declared row per option, parsed by
// Boost.Program_options (options.cpp).
#pragma once
#include <string>
#include <vector>

#include "wm/error.h"

namespace wm {

//---- what the command line asks for ----

struct Options {
  std::string command;                   // run, validate, analyze, list, describe, check; "" when none
  std::vector<std::string> args;         // the words after it: EXP.yaml then key.path=value, a name
  std::vector<std::string> plugin_dirs;  // --plugin-path, in the order given
  std::string out;                       // --out, or "" for runs/<experiment>/<time>
  std::string config;                    // analyze: --config, or "" for the run folder's own
  std::string batches, batch_size;       // inspect: --batches, --batch-size ("" for 1 and 8)
  bool dry_run = false;
  bool verbose = false;
  bool help = false, version = false;  // asked for
  // check: the plugin's params and its inputs ("" for the defaults)
  std::string params, data, data_params, model, model_params;
  // score: the two sides (a folder or a glob each) and the metric plugins, in order
  std::string prediction, target;
  std::vector<std::string> metrics;
};

//---- reading it ----

// a mistake on the command line itself (exit code 2, with a pointer to --help)
class UsageError : public Error {
 public:
  using Error::Error;
};

// Options go anywhere among the command and its arguments; `--` ends them. Values follow as
// `--out DIR`, `--out=DIR`, `-o DIR` or `-oDIR`; switches group (`-nv`). Names are not
// abbreviated, a value never starts with '-' unless attached (`--out=-x`), and an option taking
// one value may appear once. Throws UsageError.
Options parse_options(int argc, char** argv);

// `wmhost --help`: the commands, then one line per option
std::string usage();

}  // namespace wm
