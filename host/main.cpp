// wmhost: run world-model experiments described in YAML. See README.md.
#include "cli.h"

int main(int argc, char** argv) { return wm::run_cli(argc, argv); }
