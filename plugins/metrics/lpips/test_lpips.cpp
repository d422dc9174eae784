#include <torch/torch.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "test_support.h"
#include "wm/metric.h"
#include "wm/io/weight_files.h"

namespace wm {
namespace {

using test::run_python;

void write_raw(const std::filesystem::path& file, const torch::Tensor& tensor) {
  auto values = tensor.to(torch::kFloat32).contiguous();
  std::ofstream(file, std::ios::binary)
      .write(static_cast<const char*>(values.data_ptr()), values.numel() * sizeof(float));
}

// torchvision backbones with random weights and random non-negative heads, saved for both sides,
// and LPIPS v0.1 written out from the paper's definition (not the lpips package)
constexpr const char* kReference = R"py(
import sys, numpy as np, torch, torchvision
import torch.nn.functional as F
folder = sys.argv[1]
torch.manual_seed(0)
nets = {"alex": (torchvision.models.alexnet, [2, 5, 8, 10, 12]),
        "vgg": (torchvision.models.vgg16, [4, 9, 16, 23, 30]),
        "squeeze": (torchvision.models.squeezenet1_1, [2, 5, 8, 10, 11, 12, 13])}
x0 = torch.from_numpy(np.fromfile(folder + "/x0.raw", dtype=np.float32).reshape(3, 3, 64, 48))
x1 = torch.from_numpy(np.fromfile(folder + "/x1.raw", dtype=np.float32).reshape(3, 3, 64, 48))
shift = torch.tensor([-.030, -.088, -.188]).view(1, 3, 1, 1)
scale = torch.tensor([.458, .448, .450]).view(1, 3, 1, 1)

def taps(features, ends, x):
    out, start = [], 0
    for end in ends:
        for i in range(start, end):
            x = features[i](x)
        out.append(x.clone())
        start = end
    return out

for name in sys.argv[2].split(","):
    make, ends = nets[name]
    model = make().eval()
    # a state_dict is an OrderedDict, which LibTorch cannot read: save a plain dict. VGG's
    # 500 MB classifier is left out to keep the test fast; AlexNet's stays, and is ignored
    state = {k: v for k, v in model.state_dict().items() if name != "vgg" or k.startswith("features.")}
    torch.save(state, f"{folder}/{name}_backbone.pth")
    channels = [t.shape[1] for t in taps(model.features, ends, torch.zeros(1, 3, 64, 64))]
    heads = [torch.rand(1, c, 1, 1) for c in channels]
    torch.save({f"lin{k}.model.1.weight": h for k, h in enumerate(heads)}, f"{folder}/{name}.pth")
    with torch.no_grad():
        for normalize, spatial in ((False, False), (True, False), (True, True)):
            a, b = (2 * x0 - 1, 2 * x1 - 1) if normalize else (x0, x1)
            f0 = taps(model.features, ends, (a - shift) / scale)
            f1 = taps(model.features, ends, (b - shift) / scale)
            total = 0
            for k in range(len(ends)):
                u0 = f0[k] / (f0[k].pow(2).sum(1, keepdim=True).sqrt() + 1e-10)
                u1 = f1[k] / (f1[k].pow(2).sum(1, keepdim=True).sqrt() + 1e-10)
                m = F.conv2d((u0 - u1) ** 2, heads[k])
                if spatial:
                    m = F.interpolate(m, size=(64, 48), mode="bilinear", align_corners=False)
                total = total + m.mean(dim=(2, 3))
            print(name, int(normalize), int(spatial), repr(float(total.mean())))
)py";

struct ReferenceFixture {
  test::TempDir dir;
  torch::Tensor x0, x1;
  std::map<std::string, double> reference;  // "alex 1 0" -> value
  explicit ReferenceFixture(const std::string& nets = "alex") {
    torch::manual_seed(4);
    x0 = torch::rand({3, 3, 64, 48});
    x1 = (x0 + 0.3 * torch::randn_like(x0)).clamp(0, 1);
    write_raw(dir.path() / "x0.raw", x0), write_raw(dir.path() / "x1.raw", x1);
    std::istringstream lines(run_python(dir, kReference, nets));
    std::string net, normalize, spatial;
    double value;
    while (lines >> net >> normalize >> spatial >> value)
      reference[net + " " + normalize + " " + spatial] = value;
  }
  std::string params(const std::string& net) const {
    return "{net: " + net + ", backbone_weights: " + (dir.path() / (net + "_backbone.pth")).string() +
           ", head_weights: " + (dir.path() / (net + ".pth")).string();
  }
};

TEST(Lpips, EqualsAPyTorchReferenceForEveryBackboneAndMode) {
  ReferenceFixture fixture("alex,vgg,squeeze");
  ASSERT_EQ(fixture.reference.size(), 9u);
  for (std::string net : {"alex", "vgg", "squeeze"}) {
    for (auto [normalize, spatial] : {std::pair{0, 0}, {1, 0}, {1, 1}}) {
      // both memory layouts of the backbone (channels-last is the default)
      for (std::string layout : {"true", "false"}) {
        auto metric = test::make<Metric>(
            "lpips", fixture.params(net) + ", normalize: " + (normalize ? "true" : "false") +
                         ", spatial: " + (spatial ? "true" : "false") + ", chunk_frames: 2" +
                         ", channels_last: " + layout + "}");
        metric->reset();
        // without normalize the same values count as [-1, 1] input, as in the reference
        metric->update({{"prediction", fixture.x0}, {"target", fixture.x1}});
        std::string key = net + " " + std::to_string(normalize) + " " + std::to_string(spatial);
        double reference = fixture.reference.at(key);
        EXPECT_NEAR(metric->compute().at("lpips"), reference, 1e-5) << key << ", channels_last " << layout;
        EXPECT_GT(reference, 1e-3) << key;  // a real difference, not 0 == 0
      }
    }
  }
}

TEST(Lpips, IdenticalFramesAreAtDistanceZero) {
  ReferenceFixture fixture;
  auto metric = test::make<Metric>("lpips", fixture.params("alex") + "}");
  metric->reset();
  metric->update({{"prediction", fixture.x0.unsqueeze(0)}, {"target", fixture.x0.unsqueeze(0)}});
  EXPECT_NEAR(metric->compute().at("lpips"), 0.0, 1e-7);
}

TEST(Lpips, MissingWeightsSayWhichFilesToGetAndWhere) {
  test::TempDir weights;
  setenv("WMHOST_WEIGHTS", weights.path().c_str(), 1);
  std::string error = test::error_of([] { test::make<Metric>("lpips", "{net: vgg}"); });
  unsetenv("WMHOST_WEIGHTS");
  EXPECT_THAT(error, ::testing::HasSubstr("vgg16-397923af.pth"));
  EXPECT_THAT(error, ::testing::HasSubstr("lpips/weights/v0.1/vgg.pth"));
  EXPECT_THAT(error, ::testing::HasSubstr((weights.path() / "lpips").string()));
  EXPECT_THAT(error, ::testing::HasSubstr("scripts/convert_torch_weights.py"));
}

constexpr const char* kLegacyHeads = R"py(
import sys, collections, torch
folder = sys.argv[1]
heads = collections.OrderedDict((f"lin{k}.model.1.weight", torch.rand(1, c, 1, 1))
                                for k, c in enumerate([64, 192, 384, 256, 256]))
torch.save(heads, folder + "/alex.pth", _use_new_zipfile_serialization=False)
torch.save(heads, folder + "/alex_ordered.pth")
)py";

TEST(Lpips, LegacyAndOrderedDictFilesNameTheConverterWhichMakesThemLoad) {
  ReferenceFixture fixture;
  run_python(fixture.dir, kLegacyHeads);
  for (std::string file : {"alex.pth", "alex_ordered.pth"})
    EXPECT_THAT(test::error_of([&] { io::load_weight_file(fixture.dir.path() / file); }),
                ::testing::HasSubstr("python3 scripts/convert_torch_weights.py " +
                                     (fixture.dir.path() / file).string()))
        << file;
  std::string convert = std::string(WM_TEST_PYTHON) + " " + WM_TEST_SOURCE_DIR + "/scripts/convert_torch_weights.py " +
                        (fixture.dir.path() / "alex.pth").string() + " > /dev/null";
  ASSERT_EQ(std::system(convert.c_str()), 0);
  EXPECT_EQ(io::load_weight_file(fixture.dir.path() / "alex.pth").size(), 5u);
  auto metric = test::make<Metric>("lpips", fixture.params("alex") + "}");
  metric->reset();
  metric->update({{"prediction", fixture.x0}, {"target", fixture.x1}});
  EXPECT_GT(metric->compute().at("lpips"), 0.0);
}

TEST(Lpips, NegativeHeadsAreRefused) {
  ReferenceFixture fixture;
  run_python(fixture.dir, R"py(
import sys, torch
torch.save({f"lin{k}.model.1.weight": torch.randn(1, c, 1, 1)
            for k, c in enumerate([64, 192, 384, 256, 256])}, sys.argv[1] + "/alex.pth")
)py");
  EXPECT_THAT(test::error_of([&] { test::make<Metric>("lpips", fixture.params("alex") + "}"); }),
              ::testing::HasSubstr("has negative weights"));
}

// the whole path a researcher takes: YAML with weight paths relative to it, `wmhost run`,
// metrics.jsonl; alongside ssim and latent_cosine, which need no files
TEST(Lpips, RunsFromAnExperimentYamlWithRelativeWeightPaths) {
  ReferenceFixture fixture;
  fixture.dir.write("exp.yaml", R"(experiment: lpips_run
data:
  val: {plugin: synthetic, split: val, params: {samples: 40, frames: 4, size: 32}}
model: {plugin: copy_last}
metrics:
  - {plugin: lpips, params: {backbone_weights: alex_backbone.pth, head_weights: alex.pth}}
  - {plugin: ssim, params: {window_size: 7}}
  - {plugin: latent_cosine}
procedure:
  - evaluate: {data: val, batch_size: 8}
)");
  std::string command = "cd '" + fixture.dir.path().string() + "' && '" + WM_TEST_WMHOST +
                        "' run exp.yaml --out run > run.log 2>&1";
  ASSERT_EQ(std::system(command.c_str()), 0) << command;
  std::ifstream jsonl(fixture.dir.path() / "run" / "metrics.jsonl");
  std::string line;
  std::getline(jsonl, line);
  EXPECT_THAT(line, ::testing::ContainsRegex("\"lpips\": [0-9]"));
  EXPECT_THAT(line, ::testing::Not(::testing::HasSubstr("\"lpips\": 0,")));  // frames differ
  EXPECT_THAT(line, ::testing::HasSubstr("\"ssim\": "));
  EXPECT_THAT(line, ::testing::HasSubstr("\"latent_cosine/cosine\": "));
}

// the published sanity value, when the real weights are installed (they are not downloaded here)
TEST(Lpips, RealAlexWeightsGiveThePublishedBlackVersusWhiteValue) {
  if (io::find_weight_file("", "lpips", {"alex.pth"}).empty() ||
      io::find_weight_file("", "lpips", {"alexnet-owt-7be5be79.pth", "alexnet-owt-4df8aa71.pth"}).empty())
    GTEST_SKIP() << "real LPIPS weights not installed in " << io::weights_dir() / "lpips";
  auto metric = test::make<Metric>("lpips", "{net: alex, spatial: true}");
  metric->reset();
  metric->update({{"prediction", torch::zeros({1, 3, 64, 64})}, {"target", torch::ones({1, 3, 64, 64})}});
  EXPECT_NEAR(metric->compute().at("lpips"), 0.814, 0.005);  // JunyaoHu/common_metrics README
}

TEST(Lpips, PassesTheContractChecks) {
  ReferenceFixture fixture;
  testing::CheckOptions options;
  options.params = fixture.params("alex") + "}";
  EXPECT_THAT(testing::conformance("lpips", options), ::testing::IsEmpty());
}

}  // namespace
}  // namespace wm
