// Reference: scikit-learn 1.2, sklearn/linear_model/_ridge.py (_solve_cholesky,
// _solve_cholesky_kernel) and _logistic.py (_logistic_regression_path, lbfgs, multinomial).
#include "procedures/linear_probe.h"

#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>
#include <torch/optim/lbfgs.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>

#include "wm/error.h"
#include "wm/log.h"

namespace wm::eval {

//---- the probe ----

at::Tensor LinearProbe::operator()(const at::Tensor& features) const {
  auto x = features.to(at::kDouble);
  if (mean.defined()) x = (x - mean) / scale;
  return at::addmm(bias, x, weight.t());
}

namespace {

// float64 features, standardised in place of the caller's copy; the statistics go to the probe
at::Tensor prepare(const at::Tensor& features, bool standardize, LinearProbe& probe) {
  auto x = features.detach().to(at::kCPU).to(at::kDouble);
  if (!standardize) return x;
  // StandardScaler: population std, constant columns left unscaled
  probe.mean = x.mean(0);
  auto scale = x.std(0, /*unbiased=*/false);
  probe.scale = at::where(scale < 1e-12, at::ones_like(scale), scale);
  return (x - probe.mean) / probe.scale;
}

// a symmetric positive definite solve by Cholesky; a general solve when the factorisation fails
at::Tensor solve_spd(const at::Tensor& a, const at::Tensor& b) {
  auto [factor, info] = at::linalg_cholesky_ex(a);
  if (info.item<int64_t>() == 0) return at::cholesky_solve(b, factor);
  return at::linalg_solve(a, b);
}

}  // namespace

//---- ridge ----

LinearProbe fit_ridge(const at::Tensor& features, const at::Tensor& targets, double alpha, bool standardize) {
  WM_CHECK(features.size(0) == targets.size(0)) << features.sizes() << " features, " << targets.sizes() << " targets";
  WM_CHECK(alpha > 0) << "ridge alpha " << alpha;
  LinearProbe probe;
  auto x = prepare(features, standardize, probe);
  auto y = targets.detach().to(at::kCPU).to(at::kDouble).reshape({targets.size(0), -1});
  // centre both, so the intercept is unpenalised: b = mean(y) - mean(x) w
  auto x_mean = x.mean(0), y_mean = y.mean(0);
  auto xc = x - x_mean, yc = y - y_mean;
  at::Tensor w;  // [D, K]
  if (x.size(1) <= x.size(0)) {
    // primal: (Xcᵀ Xc + alpha I) w = Xcᵀ yc
    auto gram = xc.t().mm(xc);
    gram.diagonal().add_(alpha);
    w = solve_spd(gram, xc.t().mm(yc));
  } else {
    // dual, fewer rows than features: w = Xcᵀ (Xc Xcᵀ + alpha I)⁻¹ yc
    auto kernel = xc.mm(xc.t());
    kernel.diagonal().add_(alpha);
    w = xc.t().mm(solve_spd(kernel, yc));
  }
  probe.weight = w.t().contiguous();
  probe.bias = y_mean - x_mean.matmul(w);
  return probe;
}

//---- logistic ----

LinearProbe fit_logistic(const at::Tensor& features, const at::Tensor& labels, int64_t classes, double c,
                         const LogisticOptions& options, bool standardize) {
  WM_CHECK(features.size(0) == labels.size(0)) << features.sizes() << " features, " << labels.sizes() << " labels";
  WM_CHECK(c > 0) << "logistic C " << c;
  LinearProbe probe;
  auto x = prepare(features, standardize, probe);
  auto y_all = labels.detach().to(at::kCPU).to(at::kLong).reshape({-1});
  int64_t rows = x.size(0), dim = x.size(1);

  // only the classes present are fitted (as sklearn does); the others never win
  auto present = at::bincount(y_all, {}, classes).gt(0).nonzero().flatten();
  int64_t fitted = present.size(0);
  auto compact = at::full({classes}, -1, at::kLong);
  compact.index_put_({present}, at::arange(fitted, at::kLong));
  auto y = compact.index_select(0, y_all);

  auto weight = at::zeros({fitted, dim}, x.options()), bias = at::zeros({fitted}, x.options());
  if (fitted >= 2) {
    // objective per row: mean cross-entropy + ||W||² / (2 C N), sklearn's divided by C·N
    at::AutoGradMode grad(true);
    weight.set_requires_grad(true), bias.set_requires_grad(true);
    double penalty = 0.5 / (c * static_cast<double>(rows));
    torch::optim::LBFGS optimizer({weight, bias}, torch::optim::LBFGSOptions(1.0)
                                                      .max_iter(options.max_iterations)
                                                      .max_eval(options.max_iterations * 5 / 4)
                                                      .tolerance_grad(options.tolerance)
                                                      .tolerance_change(1e-16)
                                                      .history_size(20)
                                                      .line_search_fn("strong_wolfe"));
    auto objective = [&] {
      optimizer.zero_grad();
      auto loss = at::cross_entropy_loss(at::addmm(bias, x, weight.t()), y) + penalty * weight.pow(2).sum();
      loss.backward();
      return loss;
    };
    optimizer.step(objective);
    objective();
    double worst = std::max(weight.grad().abs().max().item<double>(), bias.grad().abs().max().item<double>());
    if (worst > 1e-6)
      log().warn("logistic probe (C = {}): L-BFGS ended short of convergence, max |gradient| {:.3g} "
                 "> 1e-6 (max_iter {}; raise it if this persists)",
                 c, worst, options.max_iterations);
    weight = weight.detach(), bias = bias.detach();
  }
  // back to every class: absent ones get weight 0 and logit -inf
  probe.weight = at::zeros({classes, dim}, x.options()).index_copy_(0, present, weight);
  probe.bias = at::full({classes}, -std::numeric_limits<double>::infinity(), x.options()).index_copy_(0, present, bias);
  return probe;
}

//---- the regularisation, chosen on a validation split ----

at::Tensor validation_rows(int64_t rows, double fraction, uint64_t seed) {
  WM_CHECK(rows >= 0 && fraction > 0 && fraction < 1) << rows << " rows, fraction " << fraction;
  std::vector<int64_t> order(static_cast<size_t>(rows));
  for (int64_t i = 0; i < rows; ++i) order[static_cast<size_t>(i)] = i;
  // Fisher-Yates with the generator's raw output (portable, unlike std::shuffle)
  std::mt19937_64 random(seed);
  for (int64_t i = rows - 1; i > 0; --i) std::swap(order[static_cast<size_t>(i)], order[random() % static_cast<uint64_t>(i + 1)]);
  int64_t held = std::max<int64_t>(1, std::llround(fraction * static_cast<double>(rows)));
  auto mask = at::zeros({rows}, at::kBool);
  bool* held_out = mask.data_ptr<bool>();
  for (int64_t i = 0; i < std::min(held, rows); ++i) held_out[order[static_cast<size_t>(i)]] = true;
  return mask;
}

namespace {

// runs `score(value, train_rows, val_rows)` over the grid and refits the best on all rows;
// `better(a, b)` orders scores, ties go to the stronger regularisation (`stronger(a, b)`)
template <class Fit, class Score, class Better>
Selection select(const std::vector<double>& grid, const at::Tensor& held_out, int64_t rows, Fit fit,
                 Score score, Better better, bool larger_is_stronger) {
  WM_CHECK(!grid.empty()) << "an empty regularisation grid";
  Selection selection;
  size_t best = 0;
  if (grid.size() > 1) {
    WM_CHECK(held_out.size(0) == rows) << held_out.sizes() << " held-out mask for " << rows << " rows";
    auto validation = held_out.nonzero().flatten(), training = held_out.logical_not().nonzero().flatten();
    if (validation.size(0) == 0 || training.size(0) < 2)
      throw Error("probe: " + std::to_string(rows) + " rows are too few to choose the regularisation on a " +
                  "validation split; give a single value");
    std::vector<std::pair<double, double>> scores;  // (primary, secondary)
    for (double value : grid) {
      scores.push_back(score(fit(value, training), validation));
      selection.scores.push_back(scores.back().first);
    }
    for (size_t i = 1; i < grid.size(); ++i) {
      bool stronger = larger_is_stronger ? grid[i] > grid[best] : grid[i] < grid[best];
      if (better(scores[i], scores[best]) || (!better(scores[best], scores[i]) && stronger)) best = i;
    }
    auto [low, high] = std::minmax_element(grid.begin(), grid.end());
    selection.at_edge = grid.size() >= 3 && (grid[best] == *low || grid[best] == *high);
  }
  selection.chosen = grid[best];
  selection.probe = fit(grid[best], at::Tensor());
  return selection;
}

at::Tensor rows_of(const at::Tensor& tensor, const at::Tensor& rows) {
  return rows.defined() ? tensor.index_select(0, rows) : tensor;
}

}  // namespace

Selection select_ridge(const at::Tensor& features, const at::Tensor& targets, const std::vector<double>& alphas,
                       const at::Tensor& held_out) {
  auto fit = [&](double alpha, const at::Tensor& rows) {
    return fit_ridge(rows_of(features, rows), rows_of(targets, rows), alpha);
  };
  auto score = [&](const LinearProbe& probe, const at::Tensor& rows) {
    return std::make_pair(r2_score(probe(rows_of(features, rows)), rows_of(targets, rows)), 0.0);
  };
  auto better = [](const std::pair<double, double>& a, const std::pair<double, double>& b) { return a.first > b.first; };
  return select(alphas, held_out, features.size(0), fit, score, better, /*larger_is_stronger=*/true);
}

Selection select_logistic(const at::Tensor& features, const at::Tensor& labels, int64_t classes,
                          const std::vector<double>& cs, const at::Tensor& held_out, const LogisticOptions& options) {
  auto fit = [&](double c, const at::Tensor& rows) {
    return fit_logistic(rows_of(features, rows), rows_of(labels, rows), classes, c, options);
  };
  auto score = [&](const LinearProbe& probe, const at::Tensor& rows) {
    auto logits = probe(rows_of(features, rows));
    auto truth = rows_of(labels, rows);
    return std::make_pair(top_k_accuracy(logits, truth, 1), cross_entropy(logits, truth));
  };
  // higher accuracy, then lower cross-entropy
  auto better = [](const std::pair<double, double>& a, const std::pair<double, double>& b) {
    return a.first != b.first ? a.first > b.first : a.second < b.second;
  };
  return select(cs, held_out, features.size(0), fit, score, better, /*larger_is_stronger=*/false);
}

//---- scores ----

double top_k_accuracy(const at::Tensor& logits, const at::Tensor& labels, int64_t k) {
  auto top = std::get<1>(logits.topk(std::min<int64_t>(k, logits.size(1)), 1));
  return top.eq(labels.to(top.device()).unsqueeze(1)).any(1).to(at::kDouble).mean().item<double>();
}

double r2_score(const at::Tensor& prediction, const at::Tensor& target) {
  auto y = target.to(at::kDouble).reshape({target.size(0), -1});
  auto p = prediction.to(at::kDouble).reshape({target.size(0), -1});
  auto residual = (p - y).pow(2).sum(0), total = (y - y.mean(0)).pow(2).sum(0);
  // a constant channel scores 1 when predicted exactly, else 0 (sklearn's force_finite)
  auto constant = at::where(residual.eq(0), at::ones_like(residual), at::zeros_like(residual));
  auto safe = at::where(total.eq(0), at::ones_like(total), total);
  return at::where(total.eq(0), constant, 1 - residual / safe).mean().item<double>();
}

double cross_entropy(const at::Tensor& logits, const at::Tensor& labels) {
  auto log_p = at::log_softmax(logits.to(at::kDouble), 1);
  return -log_p.gather(1, labels.to(at::kLong).reshape({-1, 1})).mean().item<double>();
}

}  // namespace wm::eval
