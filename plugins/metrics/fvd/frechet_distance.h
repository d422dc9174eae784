// Fréchet distance between Gaussians fitted to two feature sets, the statistic behind FID and
// FVD. Statistics are streaming float64 sums, so features may arrive batch by batch and from
// several workers; the distance uses a symmetric eigen-decomposition, never a general sqrtm.
#pragma once
#include <ATen/core/Tensor.h>

#include <cstdint>

namespace wm::eval {

//---- streaming Gaussian statistics of features ----

class FrechetStatistics {
 public:
  // adds a batch of features [N, D] (any floating dtype; summed in float64)
  void add(const at::Tensor& features);
  // adds another instance's features, as if this one had seen them too
  void merge(const FrechetStatistics& other);
  void reset();

  int64_t count() const { return count_; }
  int64_t dim() const;        // 0 before the first add()
  at::Tensor mean() const;    // [D] float64
  // [D, D] float64; biased (divide by N) is stylegan-v's and cd-fvd's, unbiased is np.cov's
  at::Tensor covariance(bool unbiased = false) const;

 private:
  int64_t count_ = 0;
  at::Tensor sum_;        // [D] float64, sum of features
  at::Tensor outer_sum_;  // [D, D] float64, sum of x x^T
};

//---- the distance ----

// |mu1 - mu2|^2 + Tr(S1 + S2 - 2 (sqrt(S1) S2 sqrt(S1))^(1/2)) in float64; negative eigenvalues
// (rounding in singular covariances) are clamped to 0. Equals Tr(S1 + S2 - 2 sqrtm(S1 S2)).
double frechet_distance(const at::Tensor& mean1, const at::Tensor& covariance1,
                        const at::Tensor& mean2, const at::Tensor& covariance2);

// the distance between two sets of statistics (biased covariances)
double frechet_distance(const FrechetStatistics& first, const FrechetStatistics& second);

}  // namespace wm::eval
