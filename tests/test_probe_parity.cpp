// The probe fits against scikit-learn (Debian's python3-sklearn): ridge and multinomial logistic
// regression at a fixed alpha / C give sklearn's predictions, scores and coefficients, and the
// regularisation chosen on a validation split is the one sklearn's models choose on that split.
#include <torch/torch.h>

#include <sstream>

#include "procedures/linear_probe.h"
#include "test_support.h"

namespace wm {
namespace {

namespace fs = std::filesystem;

// the numbers a reference script prints, one `name value` per line
std::map<std::string, double> numbers(const std::string& output) {
  std::map<std::string, double> values;
  std::istringstream lines(output);
  for (std::string line; std::getline(lines, line);) {
    std::istringstream fields(line);
    std::string name;
    double value;
    if (fields >> name >> value) values[name] = value;
  }
  return values;
}

double max_difference(const at::Tensor& a, const at::Tensor& b) {
  return (a.to(at::kDouble) - b.to(at::kDouble)).abs().max().item<double>();
}

const char* kReadFixture = R"(
import sys, numpy as np
d = sys.argv[1]
shape = lambda name: [int(n) for n in open(f"{d}/{name}.shape").read().split()]
load = lambda name: np.fromfile(f"{d}/{name}.f64").reshape(shape(name))
)";

void save(const test::TempDir& dir, const std::string& name, const at::Tensor& tensor) {
  test::write_raw(dir.path() / (name + ".f64"), tensor);
  std::string shape;
  for (int64_t size : tensor.sizes()) shape += std::to_string(size) + " ";
  dir.write(name + ".shape", shape);
}

//---- ridge ----

const char* kRidge = R"(
from sklearn.linear_model import Ridge
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.metrics import r2_score
x, y, xt, yt = load("x"), load("y"), load("x_test"), load("y_test")
alpha = float(sys.argv[2])
raw = Ridge(alpha=alpha).fit(x, y)
raw.predict(xt).tofile(f"{d}/raw_prediction.f64")
raw.coef_.tofile(f"{d}/raw_coef.f64")
raw.intercept_.tofile(f"{d}/raw_intercept.f64")
print("raw_r2", r2_score(yt, raw.predict(xt)))
scaled = make_pipeline(StandardScaler(), Ridge(alpha=alpha)).fit(x, y)
scaled.predict(xt).tofile(f"{d}/scaled_prediction.f64")
print("scaled_r2", r2_score(yt, scaled.predict(xt)))
)";

// rows × features of a noisy linear map to 3 targets, fitted on 2/3 of the rows
void check_ridge(int64_t rows, int64_t features, double alpha) {
  torch::manual_seed(rows + features);
  auto x = torch::randn({rows, features}, torch::kDouble) * torch::linspace(0.5, 3.0, features, torch::kDouble) + 1.0;
  auto y = x.mm(torch::randn({features, 3}, torch::kDouble)) + torch::tensor({0.5, -1.0, 2.0}, torch::kDouble) +
           0.5 * torch::randn({rows, 3}, torch::kDouble);
  int64_t fit_rows = rows * 2 / 3;
  test::TempDir dir;
  save(dir, "x", x.slice(0, 0, fit_rows)), save(dir, "y", y.slice(0, 0, fit_rows));
  save(dir, "x_test", x.slice(0, fit_rows)), save(dir, "y_test", y.slice(0, fit_rows));
  auto reference = numbers(test::run_python(dir, std::string(kReadFixture) + kRidge, std::to_string(alpha)));

  auto x_test = x.slice(0, fit_rows), y_test = y.slice(0, fit_rows);
  auto raw = eval::fit_ridge(x.slice(0, 0, fit_rows), y.slice(0, 0, fit_rows), alpha, /*standardize=*/false);
  auto raw_prediction = raw(x_test);
  EXPECT_LT(max_difference(raw_prediction, test::read_raw(dir.path() / "raw_prediction.f64", {rows - fit_rows, 3})), 1e-8);
  EXPECT_LT(max_difference(raw.weight, test::read_raw(dir.path() / "raw_coef.f64", {3, features})), 1e-8);
  EXPECT_LT(max_difference(raw.bias, test::read_raw(dir.path() / "raw_intercept.f64", {3})), 1e-8);
  EXPECT_NEAR(eval::r2_score(raw_prediction, y_test), reference.at("raw_r2"), 1e-4);

  auto scaled = eval::fit_ridge(x.slice(0, 0, fit_rows), y.slice(0, 0, fit_rows), alpha);
  auto scaled_prediction = scaled(x_test);
  EXPECT_LT(max_difference(scaled_prediction, test::read_raw(dir.path() / "scaled_prediction.f64", {rows - fit_rows, 3})), 1e-8);
  EXPECT_NEAR(eval::r2_score(scaled_prediction, y_test), reference.at("scaled_r2"), 1e-4);
  std::cout << "ridge " << rows << "x" << features << " alpha " << alpha << ": R² " << eval::r2_score(raw_prediction, y_test)
            << " (sklearn " << reference.at("raw_r2") << "), standardised " << eval::r2_score(scaled_prediction, y_test)
            << " (sklearn " << reference.at("scaled_r2") << ")\n";
}

TEST(ProbeParity, RidgeMatchesScikitLearnAtAFixedAlpha) { check_ridge(300, 12, 3.0); }

TEST(ProbeParity, RidgeWithMoreFeaturesThanRowsMatchesScikitLearn) { check_ridge(60, 64, 0.7); }

//---- logistic ----

const char* kLogistic = R"(
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import log_loss
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
x, y, xt, yt = load("x"), load("y").astype(int), load("x_test"), load("y_test").astype(int)
C = float(sys.argv[2])
make = lambda: LogisticRegression(C=C, multi_class="multinomial", solver="lbfgs", tol=1e-12, max_iter=100000)
raw = make().fit(x, y)
raw.predict_proba(xt).tofile(f"{d}/raw_proba.f64")
raw.coef_.tofile(f"{d}/raw_coef.f64")
raw.intercept_.tofile(f"{d}/raw_intercept.f64")
print("raw_accuracy", raw.score(xt, yt))
# the objective sklearn reached: C·Σ log-loss + ½||W||² (two classes: W = [-w, w])
W = np.vstack([-raw.coef_, raw.coef_]) if raw.coef_.shape[0] == 1 else raw.coef_
print("raw_objective", C * log_loss(y, raw.predict_proba(x), normalize=False) + 0.5 * (W ** 2).sum())
scaled = make_pipeline(StandardScaler(), make()).fit(x, y)
scaled.predict_proba(xt).tofile(f"{d}/scaled_proba.f64")
print("scaled_accuracy", scaled.score(xt, yt))
)";

// labels drawn from a true multinomial logit model (Gumbel-max), so no class is separable
at::Tensor logit_labels(const at::Tensor& x, int64_t classes) {
  auto logits = x.mm(1.5 * torch::randn({x.size(1), classes}, torch::kDouble));
  auto gumbel = -torch::log(-torch::log(torch::rand(logits.sizes(), torch::kDouble).clamp(1e-12, 1 - 1e-12)));
  return (logits + gumbel).argmax(1);
}

void check_logistic(int64_t classes, double c) {
  torch::manual_seed(classes);
  int64_t rows = 600, features = 10, fit_rows = 400;
  auto x = torch::randn({rows, features}, torch::kDouble) * torch::linspace(0.5, 2.0, features, torch::kDouble) - 0.3;
  auto labels = logit_labels(x, classes);
  test::TempDir dir;
  save(dir, "x", x.slice(0, 0, fit_rows)), save(dir, "y", labels.slice(0, 0, fit_rows));
  save(dir, "x_test", x.slice(0, fit_rows)), save(dir, "y_test", labels.slice(0, fit_rows));
  auto reference = numbers(test::run_python(dir, std::string(kReadFixture) + kLogistic, std::to_string(c)));

  auto x_test = x.slice(0, fit_rows), y_test = labels.slice(0, fit_rows);
  int64_t test_rows = rows - fit_rows;
  auto raw = eval::fit_logistic(x.slice(0, 0, fit_rows), labels.slice(0, 0, fit_rows), classes, c, {}, false);
  auto raw_logits = raw(x_test);
  double raw_accuracy = eval::top_k_accuracy(raw_logits, y_test, 1);
  EXPECT_NEAR(raw_accuracy, reference.at("raw_accuracy"), 1e-4);
  // sklearn's L-BFGS-B stops on its relative objective change (scipy's factr) with a gradient
  // near 1e-6, ours runs on to ~1e-9: probabilities and coefficients agree loosely, and our
  // objective is at most sklearn's
  EXPECT_LT(max_difference(raw_logits.softmax(1), test::read_raw(dir.path() / "raw_proba.f64", {test_rows, classes})), 1e-3);
  // sklearn keeps one row of coefficients for two classes: the second class's (the first is its negative)
  int64_t kept = classes == 2 ? 1 : classes;
  auto weight = raw.weight.slice(0, classes - kept), bias = raw.bias.slice(0, classes - kept);
  EXPECT_LT(max_difference(weight, test::read_raw(dir.path() / "raw_coef.f64", {kept, features})), 5e-3);
  EXPECT_LT(max_difference(bias, test::read_raw(dir.path() / "raw_intercept.f64", {kept})), 5e-3);
  auto fit_logits = raw(x.slice(0, 0, fit_rows));
  double objective = c * eval::cross_entropy(fit_logits, labels.slice(0, 0, fit_rows)) * static_cast<double>(fit_rows) +
                     0.5 * raw.weight.pow(2).sum().item<double>();
  EXPECT_LE(objective, reference.at("raw_objective") * (1 + 1e-9));

  auto scaled = eval::fit_logistic(x.slice(0, 0, fit_rows), labels.slice(0, 0, fit_rows), classes, c);
  auto scaled_logits = scaled(x_test);
  double scaled_accuracy = eval::top_k_accuracy(scaled_logits, y_test, 1);
  EXPECT_NEAR(scaled_accuracy, reference.at("scaled_accuracy"), 1e-4);
  EXPECT_LT(max_difference(scaled_logits.softmax(1), test::read_raw(dir.path() / "scaled_proba.f64", {test_rows, classes})), 1e-3);
  std::cout << classes << " classes, C " << c << ": objective " << objective << " (sklearn "
            << reference.at("raw_objective") << "), accuracy " << raw_accuracy << " (sklearn "
            << reference.at("raw_accuracy") << "), standardised " << scaled_accuracy << " (sklearn "
            << reference.at("scaled_accuracy") << ")\n";
}

TEST(ProbeParity, MultinomialLogisticMatchesScikitLearnAtAFixedC) { check_logistic(5, 0.3); }

TEST(ProbeParity, TwoClassLogisticMatchesScikitLearnAtAFixedC) { check_logistic(2, 2.0); }

//---- the choice on a validation split ----

const char* kChoice = R"(
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.metrics import r2_score, log_loss
x, y, labels, held = load("x"), load("y"), load("labels").astype(int), load("held_out") > 0
xt, yt, lt = load("x_test"), load("y_test"), load("labels_test").astype(int)
alphas, cs = [1e-2, 1, 100, 1e4], [1e-3, 1e-2, 1, 100]
# ridge: the best held-out R², ties to the larger alpha
scores = [r2_score(y[held], make_pipeline(StandardScaler(), Ridge(alpha=a)).fit(x[~held], y[~held]).predict(x[held])) for a in alphas]
alpha = max(zip(scores, alphas))[1]
print("alpha", alpha)
print("r2", r2_score(yt, make_pipeline(StandardScaler(), Ridge(alpha=alpha)).fit(x, y).predict(xt)))
# logistic: the best held-out accuracy, then the lower log-loss, ties to the smaller C
make = lambda C: make_pipeline(StandardScaler(), LogisticRegression(C=C, multi_class="multinomial", solver="lbfgs", tol=1e-12, max_iter=100000))
def score(C):
    model = make(C).fit(x[~held], labels[~held])
    return (model.score(x[held], labels[held]), -log_loss(labels[held], model.predict_proba(x[held]), labels=model.classes_), -C)
C = max(cs, key=score)
print("C", C)
print("accuracy", make(C).fit(x, labels).score(xt, lt))
)";

TEST(ProbeParity, TheValidationChoiceIsScikitLearnsOnTheSameSplit) {
  torch::manual_seed(7);
  int64_t rows = 500, features = 24, fit_rows = 350;
  auto x = torch::randn({rows, features}, torch::kDouble);
  // few informative features among many: the penalty matters
  auto y = x.slice(1, 0, 3).mm(torch::randn({3, 2}, torch::kDouble)) + torch::randn({rows, 2}, torch::kDouble);
  auto labels = logit_labels(x.slice(1, 0, 4), 4);
  auto held_out = eval::validation_rows(fit_rows, 0.2, 0);
  test::TempDir dir;
  save(dir, "x", x.slice(0, 0, fit_rows)), save(dir, "y", y.slice(0, 0, fit_rows));
  save(dir, "labels", labels.slice(0, 0, fit_rows)), save(dir, "held_out", held_out);
  save(dir, "x_test", x.slice(0, fit_rows)), save(dir, "y_test", y.slice(0, fit_rows));
  save(dir, "labels_test", labels.slice(0, fit_rows));
  auto reference = numbers(test::run_python(dir, std::string(kReadFixture) + kChoice));

  auto ridge = eval::select_ridge(x.slice(0, 0, fit_rows), y.slice(0, 0, fit_rows), {1e-2, 1, 100, 1e4}, held_out);
  EXPECT_EQ(ridge.chosen, reference.at("alpha"));
  EXPECT_EQ(ridge.scores.size(), 4u);
  EXPECT_NEAR(eval::r2_score(ridge.probe(x.slice(0, fit_rows)), y.slice(0, fit_rows)), reference.at("r2"), 1e-4);
  auto logistic = eval::select_logistic(x.slice(0, 0, fit_rows), labels.slice(0, 0, fit_rows), 4,
                                        {1e-3, 1e-2, 1, 100}, held_out);
  EXPECT_EQ(logistic.chosen, reference.at("C"));
  EXPECT_NEAR(eval::top_k_accuracy(logistic.probe(x.slice(0, fit_rows)), labels.slice(0, fit_rows), 1),
              reference.at("accuracy"), 1e-4);
  std::cout << "chose alpha " << ridge.chosen << " and C " << logistic.chosen << " (sklearn " << reference.at("alpha")
            << ", " << reference.at("C") << ")\n";
}

//---- the pieces ----

TEST(LinearProbe, ValidationRowsAreSeededAndHoldTheirShare) {
  auto a = eval::validation_rows(1000, 0.2, 3), b = eval::validation_rows(1000, 0.2, 3);
  EXPECT_TRUE(a.equal(b));
  EXPECT_EQ(a.sum().item<int64_t>(), 200);
  EXPECT_FALSE(a.equal(eval::validation_rows(1000, 0.2, 4)));
  EXPECT_EQ(eval::validation_rows(3, 0.01, 0).sum().item<int64_t>(), 1);
}

TEST(LinearProbe, AClassAbsentFromTheFittingRowsIsNeverPredicted) {
  torch::manual_seed(2);
  auto x = torch::randn({90, 3}, torch::kDouble);
  auto labels = torch::cat({torch::zeros({30}, torch::kLong), torch::ones({30}, torch::kLong), 3 * torch::ones({30}, torch::kLong)});
  x.index_put_({labels == 3, 0}, x.index({labels == 3, 0}) + 4.0);
  auto probe = eval::fit_logistic(x, labels, 4, 1.0);
  auto logits = probe(x);
  EXPECT_TRUE(torch::isinf(logits.select(1, 2)).all().item<bool>()) << logits.select(1, 2);
  EXPECT_FALSE(logits.argmax(1).eq(2).any().item<bool>());
  EXPECT_GT(eval::top_k_accuracy(logits, labels, 1), 0.6);
}

TEST(LinearProbe, AConstantTargetScoresLikeScikitLearnsR2) {
  auto y = torch::tensor({{1.0, 5.0}, {2.0, 5.0}, {3.0, 5.0}});
  // the constant channel is predicted exactly: R² 1 there (sklearn's force_finite)
  EXPECT_DOUBLE_EQ(eval::r2_score(y, y), 1.0);
  auto off = y.clone();
  off.index_put_({0, 1}, 4.0);
  EXPECT_DOUBLE_EQ(eval::r2_score(off, y), 0.5);  // (1 + 0) / 2
}

}  // namespace
}  // namespace wm
