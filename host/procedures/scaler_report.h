// The report of fit_action_scaler: the seed's "SCALER FITTING COMPLETE" block, plausibility
// warnings (std ~0 or > 1000, std outside an expected range, too few rows, not converged) and
// action_scaler.md. Also the scikit-learn pickle bridge (scripts/scaler_to_sklearn.py).
#pragma once
#include <filesystem>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "procedures/action_scaler_fit.h"

namespace wm {

//---- expected ranges ----

// {"mouse.dx 5..50", ...} -> {mouse.dx: {5, 50}}; a malformed item or low > high throws wm::Error
std::map<std::string, std::pair<double, double>> parse_expected_std(
    const std::vector<std::string>& items);

//---- the report ----

struct ScalerReport {
  std::vector<std::string> block;     // the log lines of the seed's summary block
  std::vector<std::string> warnings;  // one line each, without the procedure prefix
  std::string markdown;               // action_scaler.md
};

ScalerReport scaler_report(const ActionScalerFit& fit, const ActionScalerFitOptions& options,
                           const std::map<std::string, std::pair<double, double>>& expected_std,
                           int64_t warn_below_samples,
                           const std::vector<std::filesystem::path>& saved);

//---- scikit-learn pickles ----

// the python3 that imports sklearn, joblib and yaml: $WM_PYTHON, python3 on PATH or
// /usr/bin/python3; "" when none does
std::string sklearn_python();
// "" when sklearn_python() found one, else what to install
std::string sklearn_missing();
// scripts/scaler_to_sklearn.py scaler_file pickle; throws wm::Error with the script's output
void write_sklearn_pickle(const std::filesystem::path& scaler_file,
                          const std::filesystem::path& pickle);
// where scripts/*.py are: $WM_SCRIPTS_DIR, the source tree's scripts/ or the installed copy
std::filesystem::path scripts_dir();

}  // namespace wm
