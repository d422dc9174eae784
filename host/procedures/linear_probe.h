// Linear probes on frozen features, fitted in closed form or to convergence, as scikit-learn
// fits them: ridge regression by a linear solve (sklearn.linear_model.Ridge) and multinomial
// logistic regression by L-BFGS (sklearn.linear_model.LogisticRegression(multi_class=
// 'multinomial', solver='lbfgs')), both in float64, on features standardised with the fitting
// rows' mean and population std (sklearn's StandardScaler). The regularisation (ridge alpha,
// logistic C) is chosen from a grid on a validation split of the fitting rows, then the probe is
// refitted on all of them. Used by the `probe` procedure; tests/test_probe_parity.cpp checks the
// fits against scikit-learn.
#pragma once
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <vector>

namespace wm::eval {

//---- the probe ----

struct LinearProbe {
  at::Tensor mean, scale;   // [D] each: the input standardisation (undefined: none)
  at::Tensor weight, bias;  // [K, D], [K], on the standardised input; float64
  at::Tensor operator()(const at::Tensor& features) const;  // [N, D] -> [N, K] (float64)
};

//---- fits at one regularisation ----

// minimises ||y - X w - b||² + alpha ||w||² (sum over rows and targets; intercept unpenalised):
// Cholesky on the centred normal equations, or on the dual (X Xᵀ + alpha I) when D > N.
// features [N, D], targets [N, K]; alpha > 0
LinearProbe fit_ridge(const at::Tensor& features, const at::Tensor& targets, double alpha,
                      bool standardize = true);

struct LogisticOptions {
  int64_t max_iterations = 1000;  // L-BFGS iterations
  double tolerance = 1e-10;       // stop when max |gradient| of the per-row objective is below
};

// minimises C · Σ cross-entropy(X Wᵀ + b, label) + ½ ||W||² (intercept unpenalised) by L-BFGS
// with a strong-Wolfe line search, from zero. Classes absent from `labels` get logit -inf.
// features [N, D], labels int64 [N] in [0, classes); c > 0
LinearProbe fit_logistic(const at::Tensor& features, const at::Tensor& labels, int64_t classes,
                         double c, const LogisticOptions& options = {}, bool standardize = true);

//---- the regularisation, chosen on a validation split ----

// `round(fraction · rows)` rows (at least 1) drawn without replacement by a seeded Fisher-Yates
// shuffle (mt19937_64): bool [rows], true for the held-out rows
at::Tensor validation_rows(int64_t rows, double fraction, uint64_t seed);

struct Selection {
  LinearProbe probe;            // refitted on every row with the chosen value
  double chosen = 0;            // the chosen alpha or C
  std::vector<double> scores;   // the validation score of each grid value (R², or accuracy)
  bool at_edge = false;         // a grid of 3 or more, and the choice is its smallest or largest
};

// ridge: each alpha fitted on the rows not held out and scored by R² (averaged over targets) on
// the held-out rows; the best is refitted on all rows. One alpha: no split, fitted on all rows.
Selection select_ridge(const at::Tensor& features, const at::Tensor& targets,
                       const std::vector<double>& alphas, const at::Tensor& held_out);
// logistic: scored by held-out accuracy, ties broken by the lower held-out cross-entropy
Selection select_logistic(const at::Tensor& features, const at::Tensor& labels, int64_t classes,
                          const std::vector<double>& cs, const at::Tensor& held_out,
                          const LogisticOptions& options = {});

//---- scores ----

// share of rows whose label is among the k highest logits
double top_k_accuracy(const at::Tensor& logits, const at::Tensor& labels, int64_t k);
// coefficient of determination per target channel (1 - SSE / SST, SST about the targets' own
// mean), averaged over channels (sklearn's r2_score, multioutput='uniform_average')
double r2_score(const at::Tensor& prediction, const at::Tensor& target);
// mean cross-entropy of logits [N, K] against labels [N] (inf when a label has logit -inf)
double cross_entropy(const at::Tensor& logits, const at::Tensor& labels);

}  // namespace wm::eval
