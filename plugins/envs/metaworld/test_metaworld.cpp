#include <dlfcn.h>
#include <torch/torch.h>

#include <cstdio>
#include <functional>
#include <optional>

#include "test_support.h"
#include "wm/env.h"
#include "wm/env.h"
#include "wm/sim/vector_env.h"

namespace wm {
namespace {

using ::testing::HasSubstr;

const std::vector<std::string> kTasks = {
    "reach",  "push",       "pick-place", "door-open",   "drawer-open", "drawer-close",
    "button-press-topdown", "peg-insert-side", "window-open", "window-close", "sweep",
    "basketball", "door-close", "shelf-place", "sweep-into", "lever-pull"};

std::shared_ptr<Env> make_env(const std::string& task, const std::string& extra = "") {
  return test::make<Env>("metaworld", "{task: " + task + (extra.empty() ? "" : ", " + extra) + "}");
}

ScriptedPolicy& policies_of(Env& env) {
  auto* policy = dynamic_cast<ScriptedPolicy*>(&env);
  if (!policy) throw std::runtime_error("metaworld does not expose wm::ScriptedPolicy");
  return *policy;
}

// steps `policy` for up to `steps`; true if success was ever reached (Meta-World's evaluation)
bool run_episode(Env& env, const std::string& policy, uint64_t seed, int steps, double* contact_share = nullptr) {
  env.reset(seed);
  bool success = false;
  int contacts = 0, taken = 0;
  for (; taken < steps; ++taken) {
    StepResult result = env.step(policies_of(env).act(policy));
    success = success || result.info.at("success") > 0.5;
    contacts += result.info.at("contact") > 0.5;
    if (result.truncated || result.terminated) {
      ++taken;
      break;
    }
  }
  if (contact_share) *contact_share = static_cast<double>(contacts) / taken;
  return success;
}

TEST(MetaWorld, UnknownTaskListsTheTasks) {
  std::string error = test::error_of([] { make_env("pick-and-place"); });
  EXPECT_THAT(error, HasSubstr("pick-place"));
  EXPECT_THAT(error, HasSubstr("lever-pull"));
}

TEST(MetaWorld, ObservationHasMetaWorldsLayout) {
  auto env = make_env("pick-place");
  auto state = env->reset(5).at("state");
  ASSERT_EQ(state.sizes(), (std::vector<int64_t>{39}));
  EXPECT_TRUE(torch::equal(state.slice(0, 0, 18), state.slice(0, 18, 36))) << "previous frame = current at reset";
  EXPECT_NEAR(state[0].item<float>(), 0.0, 0.01);  // hand starts at (0, 0.6, 0.2)
  EXPECT_NEAR(state[1].item<float>(), 0.6, 0.01);
  EXPECT_NEAR(state[2].item<float>(), 0.2, 0.02);
  EXPECT_GT(state[3].item<float>(), 0.7) << "gripper open";
  EXPECT_NEAR(state[6].item<float>(), 0.02, 0.005) << "puck on the table";
  EXPECT_NEAR(state[7].item<float>(), 1.0, 1e-3) << "quaternion w first";
  EXPECT_GE(state[37].item<float>(), 0.8) << "goal y in [0.8, 0.9]";
  auto next = env->step(torch::tensor({1.f, 0.f, 0.f, -1.f})).observation.at("state");
  EXPECT_TRUE(torch::equal(next.slice(0, 18, 36), state.slice(0, 0, 18)));
  EXPECT_GT(next[0].item<float>(), state[0].item<float>()) << "dx = +1 moves the hand to +x";

  auto hidden = make_env("pick-place", "partially_observable: true")->reset(5).at("state");
  EXPECT_TRUE(torch::equal(hidden.slice(0, 36, 39), torch::zeros({3})));
  EXPECT_TRUE(torch::equal(hidden.slice(0, 0, 36), state.slice(0, 0, 36)));
}

TEST(MetaWorld, ResetIsDeterministicBySeed) {
  auto env = make_env("peg-insert-side");
  auto first = env->reset(3).at("state").clone();
  env->step(torch::ones({4}));
  EXPECT_TRUE(torch::equal(first, env->reset(3).at("state")));
  EXPECT_FALSE(torch::equal(first, env->reset(4).at("state")));
}

TEST(MetaWorld, NoTaskStartsSolved) {
  for (const auto& task : kTasks) {
    auto env = make_env(task);
    for (uint64_t seed = 0; seed < 5; ++seed) {
      env->reset(seed);
      auto result = env->step(torch::zeros({4}));
      EXPECT_EQ(result.info.at("success"), 0.0) << task << " seed " << seed;
      EXPECT_LT(result.reward, 10.0) << task;
    }
  }
}

TEST(MetaWorld, BadActionsAreRejectedAndLeaveTheStateUntouched) {
  auto env = make_env("push");
  auto reference = make_env("push");
  env->reset(1);
  reference->reset(1);
  EXPECT_THAT(test::error_of([&] { env->step(torch::tensor({0.f, NAN, 0.f, 0.f})); }), HasSubstr("not finite"));
  EXPECT_THAT(test::error_of([&] { env->step(torch::tensor({0.f, 0.f, INFINITY, 0.f})); }), HasSubstr("not finite"));
  EXPECT_THAT(test::error_of([&] { env->step(torch::zeros({3})); }), HasSubstr("action must have 4 values"));
  auto action = torch::tensor({0.3f, -0.2f, 0.1f, 1.f});
  EXPECT_TRUE(torch::equal(env->step(action).observation.at("state"),
                           reference->step(action).observation.at("state")));
}

TEST(MetaWorld, EpisodeEndsAtTheStepLimit) {
  auto env = make_env("reach", "max_episode_steps: 3");
  EXPECT_THAT(test::error_of([&] { env->step(torch::zeros({4})); }), HasSubstr("before reset"));
  env->reset(0);
  EXPECT_FALSE(env->step(torch::zeros({4})).truncated);
  EXPECT_FALSE(env->step(torch::zeros({4})).truncated);
  EXPECT_TRUE(env->step(torch::zeros({4})).truncated);
  EXPECT_THAT(test::error_of([&] { env->step(torch::zeros({4})); }), HasSubstr("call reset()"));
  EXPECT_EQ(env->spec().max_episode_steps, 3);
  EXPECT_EQ(env->spec().action_size, 4);
}

// a real floor under the experts: the bench (bench/env) reports 50 seeds per task
TEST(MetaWorld, ExpertsSolveEveryTask) {
  for (const auto& task : kTasks) {
    auto env = make_env(task);
    int successes = 0;
    const int seeds = 8;
    for (int seed = 0; seed < seeds; ++seed) successes += run_episode(*env, "expert", 1000 + seed, 500);
    EXPECT_GE(successes, seeds - 1) << task << ": expert solved " << successes << "/" << seeds;
  }
}

TEST(MetaWorld, RandomActionsDoNotSolvePickPlace) {
  auto env = make_env("pick-place");
  int successes = 0;
  for (int seed = 0; seed < 5; ++seed) successes += run_episode(*env, "random", seed, 200);
  EXPECT_EQ(successes, 0);
}

TEST(MetaWorld, TerminateOnSuccessEndsTheEpisode) {
  auto env = make_env("reach", "terminate_on_success: true");
  env->reset(2);
  StepResult result;
  for (int step = 0; step < 500 && !result.terminated; ++step) result = env->step(policies_of(*env).act("expert"));
  EXPECT_TRUE(result.terminated);
  EXPECT_EQ(result.info.at("success"), 1.0);
  EXPECT_EQ(result.reward, 10.0);
}

TEST(MetaWorld, RewardGrowsAsTheExpertProgresses) {
  auto env = make_env("pick-place");
  env->reset(7);
  double first = env->step(torch::zeros({4})).reward, best = first;
  for (int step = 0; step < 150; ++step) best = std::max(best, env->step(policies_of(*env).act("expert")).reward);
  EXPECT_LT(first, 3.0);
  EXPECT_EQ(best, 10.0);
}

//---- pixels ----

TEST(MetaWorld, PixelsComeFromTheNamedCameraAtAnySize) {
  auto env = make_env("pick-place", "camera: corner, width: 48, height: 36");
  ASSERT_EQ(env->spec().observation.size(), 2u);
  auto first = env->reset(0);
  auto pixels = first.at("pixels");
  EXPECT_EQ(pixels.sizes(), (std::vector<int64_t>{3, 36, 48}));
  EXPECT_EQ(pixels.scalar_type(), torch::kUInt8);
  EXPECT_GT(pixels.to(torch::kFloat).std().item<float>(), 5.0) << "not a blank image";
  at::Tensor moved;
  for (int step = 0; step < 20; ++step) moved = env->step(torch::tensor({1.f, 0.f, 1.f, 1.f})).observation.at("pixels");
  double change = (moved.to(torch::kFloat) - pixels.to(torch::kFloat)).abs().mean().item<double>();
  EXPECT_GT(change, 0.5) << "the image changes when the hand moves";
  EXPECT_TRUE(torch::equal(env->reset(0).at("pixels"), pixels)) << "rendering is deterministic";
}

TEST(MetaWorld, CameraNamesAreValidated) {
  std::string error = test::error_of([] { make_env("reach", "camera: side"); });
  EXPECT_THAT(error, HasSubstr("corner"));
  EXPECT_THAT(error, HasSubstr("gripper_pov"));
  EXPECT_THAT(test::error_of([] { make_env("reach", "camera: topview, width: 0"); }), HasSubstr("width"));
}

TEST(MetaWorld, TopviewAndCornerSeeDifferentImages) {
  auto top = make_env("reach", "camera: topview, width: 32, height: 32")->reset(0).at("pixels");
  auto corner = make_env("reach", "camera: corner, width: 32, height: 32")->reset(0).at("pixels");
  EXPECT_FALSE(torch::equal(top, corner));
}

//---- many at once ----

// the envs of a thread pool render what the same envs render one by one (their GL contexts move
// between threads); `gl` is the params' GL choice
void expect_vector_pixels_match_serial(const std::string& gl) {
  const std::string params = "camera: corner, width: 32, height: 32" + gl;
  std::vector<std::shared_ptr<Env>> envs, serial;
  for (int i = 0; i < 3; ++i) {
    envs.push_back(make_env("pick-place", params));
    serial.push_back(make_env("pick-place", params));
  }
  sim::VectorEnv vector(envs, 2);
  auto first = vector.reset({1, 2, 3});
  EXPECT_EQ(first.at("pixels").sizes(), (std::vector<int64_t>{3, 3, 32, 32}));
  for (int i = 0; i < 3; ++i) serial[i]->reset(i + 1);
  for (int step = 0; step < 25; ++step) {
    auto actions = vector.act("expert");
    auto result = vector.step(actions);
    for (int i = 0; i < 3; ++i) {
      auto expected = serial[i]->step(policies_of(*serial[i]).act("expert"));
      EXPECT_TRUE(torch::equal(result.observation.at("state")[i], expected.observation.at("state")));
      EXPECT_TRUE(torch::equal(result.observation.at("pixels")[i], expected.observation.at("pixels")));
      EXPECT_EQ(result.reward[i], expected.reward);
    }
  }
}

TEST(MetaWorld, VectorEnvWithPixelsMatchesSerialStepping) { expect_vector_pixels_match_serial(""); }

//---- GL backends ----
// MuJoCo looks its GL functions up once per process, so a test that picks a backend runs it in a
// child process: gtest's threadsafe death tests re-run this binary for just that statement.

bool egl_installed() {
  // RTLD_LOCAL keeps libEGL out of MuJoCo's sight, so this process can still use OSMesa
  static const bool installed = dlopen("libEGL.so.1", RTLD_NOW | RTLD_LOCAL) != nullptr;
  return installed;
}

// runs `body` in a child process; it passes when the child exits 0 and its stderr matches `pattern`
void in_child_process(const std::function<void()>& body, const std::string& pattern = "") {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(
      {
        body();
        std::_Exit(::testing::Test::HasFailure() ? 1 : 0);
      },
      ::testing::ExitedWithCode(0), pattern);
}

// pick-place's corner view at reset and after 10 expert steps
at::Tensor frames_with(const std::string& gl) {
  auto env = make_env("pick-place", "camera: corner, width: 48, height: 36, gl: " + gl);
  std::vector<at::Tensor> frames{env->reset(3).at("pixels")};
  for (int step = 0; step < 10; ++step) env->step(policies_of(*env).act("expert"));
  frames.push_back(env->step(policies_of(*env).act("expert")).observation.at("pixels"));
  return torch::stack(frames);
}

TEST(MetaWorldGl, EglDrawsWhatOsMesaDraws) {
  if (!egl_installed()) GTEST_SKIP() << "libEGL is not installed (apt install libegl1 libegl-mesa0)";
  // the children re-run this test from the top: they find the parent's folder in the environment
  const char* kFolder = "WM_TEST_GL_FRAMES";
  std::optional<test::TempDir> dir;
  if (!std::getenv(kFolder)) setenv(kFolder, dir.emplace().path().c_str(), 1);
  const std::filesystem::path folder = std::getenv(kFolder);
  for (std::string gl : {"egl", "osmesa"})
    in_child_process([&] { torch::save(frames_with(gl), (folder / (gl + ".pt")).string()); });
  unsetenv(kFolder);
  at::Tensor egl, osmesa;
  torch::load(egl, (folder / "egl.pt").string());
  torch::load(osmesa, (folder / "osmesa.pt").string());
  ASSERT_EQ(egl.sizes(), osmesa.sizes());
  EXPECT_GT(egl.to(torch::kFloat).std().item<double>(), 5.0) << "not a blank image";
  double difference = (egl.to(torch::kFloat) - osmesa.to(torch::kFloat)).abs().mean().item<double>();
  // identical on Mesa (both llvmpipe); a GPU rasterises edges a little differently
  EXPECT_LT(difference, 4.0) << "mean absolute difference between EGL's and OSMesa's frames";
}

TEST(MetaWorldGl, EglEnvsRenderOnAThreadPool) {
  if (!egl_installed()) GTEST_SKIP() << "libEGL is not installed (apt install libegl1 libegl-mesa0)";
  in_child_process([] { expect_vector_pixels_match_serial(", gl: egl"); });
}

TEST(MetaWorldGl, AProcessRendersWithOneBackend) {
  if (!egl_installed()) GTEST_SKIP() << "libEGL is not installed (apt install libegl1 libegl-mesa0)";
  in_child_process(
      [] {
        make_env("reach", "camera: topview, gl: osmesa");
        std::fprintf(stderr, "%s\n", test::error_of([] { make_env("reach", "camera: topview, gl: egl"); }).c_str());
      },
      "already renders with osmesa.*same `gl`");
}

TEST(MetaWorldGl, AMissingEglDeviceListsTheDevices) {
  if (!egl_installed()) GTEST_SKIP() << "libEGL is not installed (apt install libegl1 libegl-mesa0)";
  in_child_process(
      [] {
        std::fprintf(stderr, "%s\n",
                     test::error_of([] { make_env("reach", "camera: topview, gl: egl, egl_device: 9"); }).c_str());
      },
      "egl_device 9 does not exist; the EGL devices are: 0 ");
}

TEST(MetaWorldGl, AnUnknownBackendListsTheChoices) {
  std::string error = test::error_of([] { make_env("reach", "camera: topview, gl: vulkan"); });
  EXPECT_THAT(error, HasSubstr("osmesa"));
  EXPECT_THAT(error, HasSubstr("egl"));
}

//---- babbling ----

TEST(MetaWorld, DropSpawnHoldsTheObjectInTheAir) {
  auto env = make_env("pick-place", "spawn: drop");
  auto state = env->reset(4).at("state");
  EXPECT_GT(state[6].item<float>(), 0.07) << "puck lifted";
  auto result = env->step(torch::tensor({0.f, 0.f, 0.f, 1.f}));
  EXPECT_EQ(result.info.at("grasp_success"), 1.0);
  for (int step = 0; step < 40; ++step) env->step(torch::tensor({0.f, 0.f, 0.f, -1.f}));
  EXPECT_LT(env->step(torch::zeros({4})).observation.at("state")[6].item<float>(), 0.05) << "released, it falls";
}

TEST(MetaWorld, BabblingTouchesTheObjectFarMoreThanRandomActions) {
  double babble_sum = 0, random_sum = 0, share = 0;
  const int episodes = 4;
  for (const std::string task : {"pick-place", "drawer-open"}) {
    auto spawned = make_env(task, "spawn: drop, max_episode_steps: 150");
    auto plain = make_env(task, "max_episode_steps: 150");
    for (int seed = 0; seed < episodes; ++seed) {
      run_episode(*spawned, "babble", seed, 150, &share);
      babble_sum += share;
      run_episode(*plain, "random", seed, 150, &share);
      random_sum += share;
    }
  }
  double babble = babble_sum / (2 * episodes), random = random_sum / (2 * episodes);
  std::cout << "contact share: babbling " << babble << ", random " << random << "\n";
  EXPECT_GT(babble, 0.3);
  EXPECT_LT(random, 0.1);
}

class AlwaysGrasp : public PrimitiveChooser {
 public:
  size_t choose(const std::vector<std::string>& primitives, const TensorMap& observation) override {
    EXPECT_EQ(observation.at("state").numel(), 39);
    return std::find(primitives.begin(), primitives.end(), "grasp") - primitives.begin();
  }
  void outcome(size_t primitive, double competence) override { outcomes.emplace_back(primitive, competence); }
  std::vector<std::pair<size_t, double>> outcomes;
};

TEST(MetaWorld, AChooserPicksThePrimitivesAndHearsTheirOutcome) {
  auto env = make_env("pick-place", "spawn: strike");
  auto chooser = std::make_shared<AlwaysGrasp>();
  policies_of(*env).set_chooser(chooser);
  run_episode(*env, "babble", 3, 130);
  ASSERT_GE(chooser->outcomes.size(), 2u);
  double touched = 0;
  for (const auto& [primitive, competence] : chooser->outcomes) {
    EXPECT_EQ(primitive, 1u);  // grasp
    EXPECT_GE(competence, 0.0);
    EXPECT_LE(competence, 1.0);
    touched += competence;
  }
  EXPECT_GT(touched, 0.0) << "grasping from a strike spawn touches the puck";
}

}  // namespace
}  // namespace wm
