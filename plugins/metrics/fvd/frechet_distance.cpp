// Fréchet distance: Dowson & Landau (1982); as used by FID (Heusel et al. 2017) and FVD
// (Unterthiner et al. 2018). The square-root term follows the TF-GAN symmetric form.
#include "frechet_distance.h"

#include <ATen/ATen.h>

#include "wm/error.h"
#include "wm/sample.h"

namespace wm::eval {

void FrechetStatistics::add(const at::Tensor& features) {
  if (features.dim() != 2)
    throw Error("Fréchet statistics: features must be [N, D], got " + describe_tensor(features));
  if (sum_.defined() && features.size(1) != sum_.size(0))
    throw Error("Fréchet statistics: features of dimension " + std::to_string(features.size(1)) +
                " added to statistics of dimension " + std::to_string(sum_.size(0)));
  auto x = features.to(at::kDouble).cpu();
  if (!sum_.defined()) {
    sum_ = at::zeros({x.size(1)}, x.options());
    outer_sum_ = at::zeros({x.size(1), x.size(1)}, x.options());
  }
  // [N, D] -> sum [D] and x^T x [D, D]
  sum_ += x.sum(0);
  outer_sum_ += at::matmul(x.t(), x);
  count_ += x.size(0);
}

void FrechetStatistics::merge(const FrechetStatistics& other) {
  if (!other.sum_.defined()) return;
  if (!sum_.defined()) {
    *this = FrechetStatistics{};
    sum_ = other.sum_.clone(), outer_sum_ = other.outer_sum_.clone(), count_ = other.count_;
    return;
  }
  if (other.dim() != dim())
    throw Error("Fréchet statistics: cannot merge dimension " + std::to_string(other.dim()) +
                " into dimension " + std::to_string(dim()));
  sum_ += other.sum_, outer_sum_ += other.outer_sum_, count_ += other.count_;
}

void FrechetStatistics::reset() { *this = FrechetStatistics{}; }

int64_t FrechetStatistics::dim() const { return sum_.defined() ? sum_.size(0) : 0; }

at::Tensor FrechetStatistics::mean() const {
  if (count_ == 0) throw Error("Fréchet statistics: no features were added");
  return sum_ / static_cast<double>(count_);
}

at::Tensor FrechetStatistics::covariance(bool unbiased) const {
  if (count_ < (unbiased ? 2 : 1))
    throw Error("Fréchet statistics: " + std::to_string(count_) +
                " features are too few for a covariance");
  auto mu = mean();
  // (sum x x^T - N mu mu^T) / (N or N - 1)
  auto centred = outer_sum_ - static_cast<double>(count_) * at::outer(mu, mu);
  return centred / static_cast<double>(unbiased ? count_ - 1 : count_);
}

double frechet_distance(const at::Tensor& mean1, const at::Tensor& covariance1,
                        const at::Tensor& mean2, const at::Tensor& covariance2) {
  auto mu1 = mean1.to(at::kDouble), mu2 = mean2.to(at::kDouble);
  auto s1 = covariance1.to(at::kDouble), s2 = covariance2.to(at::kDouble);
  int64_t d = mu1.numel();
  if (mu2.numel() != d || !s1.sizes().equals({d, d}) || !s2.sizes().equals({d, d}))
    throw Error("Fréchet distance: means " + describe_tensor(mean1) + ", " +
                describe_tensor(mean2) + " and covariances " + describe_tensor(covariance1) +
                ", " + describe_tensor(covariance2) + " do not match");
  // sqrt(S1) from the symmetric eigen-decomposition S1 = V diag(l) V^T, l clamped at 0
  auto [l1, v1] = at::linalg_eigh(0.5 * (s1 + s1.t()));
  auto root1 = at::matmul(v1 * l1.clamp_min(0).sqrt().unsqueeze(0), v1.t());
  // Tr sqrt(S1 S2) = Tr sqrt(sqrt(S1) S2 sqrt(S1)), whose matrix is symmetric PSD
  auto m = at::matmul(at::matmul(root1, s2), root1);
  auto eigenvalues = at::linalg_eigvalsh(0.5 * (m + m.t()));
  double trace_root = eigenvalues.clamp_min(0).sqrt().sum().item<double>();
  double mean_term = (mu1 - mu2).pow(2).sum().item<double>();
  return mean_term + s1.trace().item<double>() + s2.trace().item<double>() - 2 * trace_root;
}

double frechet_distance(const FrechetStatistics& first, const FrechetStatistics& second) {
  return frechet_distance(first.mean(), first.covariance(), second.mean(), second.covariance());
}

}  // namespace wm::eval
