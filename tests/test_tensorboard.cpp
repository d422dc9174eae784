// TensorBoard event files read back by a reader that shares none of wmhost's code: a TFRecord and
// protobuf wire-format parser written here in Python, with its own CRC-32C, and PIL for the PNGs.
#include <ATen/ATen.h>

#include "report/png_writer.h"
#include "report/tensorboard.h"
#include "test_support.h"

namespace wm {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

// reads every events file under argv[1]/<argv[2]>: checks both CRCs of every record against its
// own CRC-32C, decodes Event / Summary by hand, and leaves `events` (a list of dicts) for the
// test's own lines appended after it
const char* kReader = R"py(
import glob, io, json, os, struct, sys

def crc32c(data):
    crc = 0xFFFFFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
    return crc ^ 0xFFFFFFFF

assert crc32c(b'123456789') == 0xE3069283

def masked(data):
    crc = crc32c(data)
    return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF

def varint(data, at):
    value, shift = 0, 0
    while True:
        byte = data[at]; at += 1
        value |= (byte & 0x7F) << shift; shift += 7
        if byte < 0x80: return value, at

def fields(data):
    # {field number: [values]}: ints for varints, bytes for length-delimited, raw bytes for fixed
    out, at = {}, 0
    while at < len(data):
        key, at = varint(data, at)
        number, wire = key >> 3, key & 7
        if wire == 0: value, at = varint(data, at)
        elif wire == 1: value, at = data[at:at + 8], at + 8
        elif wire == 5: value, at = data[at:at + 4], at + 4
        elif wire == 2:
            size, at = varint(data, at)
            value, at = data[at:at + size], at + size
        else: raise ValueError('wire type %d' % wire)
        out.setdefault(number, []).append(value)
    return out

def records(path):
    data = open(path, 'rb').read()
    at = 0
    while at < len(data):
        header = data[at:at + 8]
        (length,) = struct.unpack('<Q', header)
        (header_crc,) = struct.unpack('<I', data[at + 8:at + 12])
        assert header_crc == masked(header), 'length crc of record at %d' % at
        body = data[at + 12:at + 12 + length]
        (body_crc,) = struct.unpack('<I', data[at + 12 + length:at + 16 + length])
        assert body_crc == masked(body), 'data crc of record at %d' % at
        yield body
        at += 16 + length

def event(body):
    f = fields(body)
    out = {'wall_time': struct.unpack('<d', f[1][0])[0], 'step': f.get(2, [0])[0]}
    if 3 in f: out['file_version'] = f[3][0].decode()
    # event.proto: 6 is the deprecated LogMessage, 7 the SessionLog (its field 1: status, START = 1)
    assert 6 not in f, 'a LogMessage where a SessionLog was meant'
    if 7 in f: out['session_status'] = fields(f[7][0])[1][0]
    values = []
    for raw in fields(f[5][0]).get(1, []) if 5 in f else []:
        v = fields(raw)
        value = {'tag': v[1][0].decode()}
        if 2 in v: value['scalar'] = struct.unpack('<f', v[2][0])[0]
        if 4 in v:
            image = fields(v[4][0])
            value['image'] = (image[1][0], image[2][0], image[3][0], image[4][0])
        if 8 in v:
            tensor = fields(v[8][0])
            value['dtype'] = tensor[1][0]
            value['text'] = tensor[8][0].decode()
        if 9 in v:
            plugin = fields(fields(v[9][0])[1][0])
            value['plugin'] = plugin[1][0].decode()
        values.append(value)
    out['values'] = values
    return out

files = sorted(glob.glob(os.path.join(sys.argv[1], sys.argv[2], 'events.out.tfevents.*')),
               key=os.path.getmtime)
assert files, 'no events file'
events_by_file = [[event(body) for body in records(path)] for path in files]
for events in events_by_file:
    assert events[0].get('file_version') == 'brain.Event:2', events[0]
events = [e for file_events in events_by_file for e in file_events]
)py";

TEST(TensorBoard, Crc32cMatchesTheKnownVectors) {
  EXPECT_EQ(crc32c("123456789", 9), 0xE3069283u);
  // RFC 3720 (iSCSI) B.4: 32 bytes of zeros, and of ones
  std::string zeros(32, '\0'), ones(32, '\xff');
  EXPECT_EQ(crc32c(zeros.data(), 32), 0x8A9136AAu);
  EXPECT_EQ(crc32c(ones.data(), 32), 0x62A8AB43u);
}

TEST(TensorBoard, EventsDecodeInAnIndependentReader) {
  test::TempDir dir;
  auto picture = at::arange(3 * 5 * 7, at::kLong).mul(2).remainder(256).to(at::kByte).view({3, 5, 7});
  {
    TensorBoardWriter board(dir.path() / "tb");
    board.text("config", "    seed: 3", 0);
    board.scalars("train", "", {{"step", 12}, {"loss", 0.125}, {"lr", 3e-4}, {"time", 1.7e9}});
    board.image("evaluate[val]/preview/frame_00", encode_png(picture), 5, 7, board.last_step());
    board.restart_at(9);
    board.scalars("train", "", {{"step", 9}, {"loss", -2.5e10}});
  }
  std::string output = test::run_python(dir, std::string(kReader) + R"py(
from PIL import Image
for e in events[1:]:
    for v in e['values']:
        if 'image' in v:
            h, w, colourspace, png = v['image']
            pixels = Image.open(io.BytesIO(png)).convert('RGB')
            v['image'] = [h, w, colourspace, pixels.size, list(pixels.getdata())[:3]]
    print(json.dumps({k: e[k] for k in e if k != 'wall_time'}, sort_keys=True))
)py", "tb");
  std::vector<std::string> lines;
  std::stringstream text(output);
  for (std::string line; std::getline(text, line);) lines.push_back(line);
  ASSERT_EQ(lines.size(), 5u) << output;
  EXPECT_EQ(lines[0], R"({"step": 0, "values": [{"dtype": 7, "plugin": "text", "tag": "config", "text": "    seed: 3"}]})");
  // "step" and "time" are the axes, not scalars; simple_value is a float32
  EXPECT_EQ(lines[1], R"({"step": 12, "values": [{"scalar": 0.125, "tag": "train/loss"}, )"
                      R"({"scalar": 0.0003000000142492354, "tag": "train/lr"}]})");
  // PIL's decoding: height 5, width 7, RGB; the first pixels are the tensor's channels at (0,0),
  // (0,1), (0,2): R = 0, 2, 4; G = 70, 72, 74; B = 140, 142, 144
  EXPECT_EQ(lines[2], R"({"step": 12, "values": [{"image": [5, 7, 3, [7, 5], [[0, 70, 140], [2, 72, 142], )"
                      R"([4, 74, 144]]], "tag": "evaluate[val]/preview/frame_00"}]})");
  EXPECT_EQ(lines[3], R"({"session_status": 1, "step": 9, "values": []})");
  EXPECT_EQ(lines[4], R"({"step": 9, "values": [{"scalar": -24999999488.0, "tag": "train/loss"}]})");
}

TEST(TensorBoard, AfterARestartValuesWithoutAStepGoToTheStepBeforeIt) {
  test::TempDir dir;
  {
    TensorBoardWriter board(dir.path() / "tb");
    board.scalars("train", "", {{"step", 12}, {"loss", 0.5}});
    // a resume from the final checkpoint (step 12): nothing is left to train
    board.restart_at(13);
    EXPECT_EQ(board.last_step(), 12);
    board.scalars("evaluate", "val", {{"psnr", 20}});
  }
  std::string output = test::run_python(dir, std::string(kReader) + R"py(
print([(e['step'], e['session_status']) for e in events if 'session_status' in e])
print([(e['step'], v['tag']) for e in events for v in e['values']])
)py", "tb");
  EXPECT_EQ(output, "[(13, 1)]\n[(12, 'train/loss'), (12, 'evaluate[val]/psnr')]\n");
}

TEST(TensorBoard, PngMatchesItsPixelsInPil) {
  test::TempDir dir;
  auto image = at::rand({3, 33, 47}, at::kFloat);
  dir.write("image.png", encode_png(image));
  std::string output = test::run_python(dir, R"py(
import sys
import numpy as np
from PIL import Image
pixels = np.asarray(Image.open(sys.argv[1] + '/image.png').convert('RGB'), dtype=np.uint8)
pixels.transpose(2, 0, 1).astype(np.float64).tofile(sys.argv[1] + '/pixels.raw')
print(pixels.shape)
)py");
  EXPECT_EQ(output, "(33, 47, 3)\n");
  auto expected = image.clamp(0, 1).mul(255).round().to(at::kDouble);
  EXPECT_TRUE(test::read_raw(dir.path() / "pixels.raw", {3, 33, 47}).equal(expected));
}

const char* kTrainThenEvaluate = R"(experiment: tb_run
seed: 5
threads: 1
data:
  train: {plugin: synthetic, params: {samples: 48, frames: 5, size: 16}}
  val: {plugin: synthetic, params: {samples: 16, frames: 5, size: 16, seed: 9}}
metrics: [{plugin: psnr}]
model:
  plugin: two_stream
  params: {image_size: 16, patch: 4, dim: 16, depth: 1, heads: 2, change_dim: 4,
           decoder_dim: 16, decoder_depth: 1, max_gap: 2}
procedure:
  - train: {steps: 12, batch_size: 4, log_every: 2, checkpoint_every: 4, eval_data: val,
            eval_batches: 1, resume: true}
  - evaluate: {data: val, batch_size: 8, max_batches: 1, preview: 2}
)";

TEST(TensorBoard, TrainAndEvaluateScalarsEqualMetricsJsonl) {
  test::TempDir dir;
  dir.write("exp.yaml", kTrainThenEvaluate);
  int code = 0;
  std::string output = test::run_wmhost("run exp.yaml --out run", dir.path(), code);
  ASSERT_EQ(code, 0) << output;
  // every value of every train and evaluate line of metrics.jsonl is a scalar of its step (evaluate
  // has none: the last training step); tags are the summary keys
  std::string reader = std::string(kReader) + R"py(
import numpy as np
from PIL import Image
scalars, images, texts = {}, {}, {}
for e in events:
    for v in e['values']:
        if 'scalar' in v: scalars[(v['tag'], e['step'])] = v['scalar']
        if 'image' in v: images[v['tag']] = (e['step'], Image.open(io.BytesIO(v['image'][3])).size, v['image'][:2])
        if 'text' in v: texts[v['tag']] = (v['plugin'], v['text'])
checked, last_step, checked_tags = 0, 0, set()
for line in open(os.path.join(sys.argv[1], 'run', 'metrics.jsonl')):
    record = json.loads(line)
    if record.get('procedure') not in ('train', 'evaluate') or 'event' in record: continue
    step = int(record.get('step', last_step))
    last_step = max(last_step, step)
    prefix = record['procedure'] + ('[%s]' % record['label'] if 'label' in record else '')
    for key, value in record.items():
        if isinstance(value, str) or key in ('step', 'time'): continue
        got = scalars.pop((prefix + '/' + key, step))
        checked_tags.add((prefix + '/' + key, step))
        # float32 in the event; metrics.jsonl has 10 significant digits: one float32 step apart at most
        assert abs(got - value) <= np.spacing(np.float32(abs(value))), (key, step, got, value)
        checked += 1
assert not scalars, 'scalars not in metrics.jsonl: %s' % sorted(scalars)
print('scalars', checked > 60)
print('tags', ' '.join(sorted({tag for tag, step in checked_tags})))
for tag in sorted(images): print('image', tag, *images[tag])
plugin, config = texts['config']
print('text', plugin, 'experiment: tb_run' in config, all(l.startswith('    ') for l in config.splitlines()))
)py";
  std::string checked = test::run_python(dir, reader, "run/tb");
  // 6 train lines of about 11 values (the model's own logs vary), 3 eval_loss lines, one
  // evaluate line; the reader has matched each of them to a scalar of its step and back
  EXPECT_THAT(checked, HasSubstr("scalars True\n"));
  for (const char* tag : {" train[train]/loss ", " train[train]/lr ", " train[train]/grad_norm ",
                          " train[train]/eval_loss ", " evaluate[val]/psnr ", " evaluate[val]/samples "})
    EXPECT_THAT(checked + " ", HasSubstr(tag));
  // frame t | prediction | truth of 2 clips, 16 pixels enlarged 8 times: 384 x 256, at step 12
  EXPECT_THAT(checked, HasSubstr("image evaluate[val]/preview_val/frame_00 12 (384, 256) (256, 384)\n"));
  EXPECT_THAT(checked, HasSubstr("image evaluate[val]/preview_val/frame_03 12 (384, 256) (256, 384)\n"));
  EXPECT_THAT(checked, HasSubstr("text text True True\n"));
}

TEST(TensorBoard, ResumedTrainingRestartsAfterItsCheckpoint) {
  test::TempDir dir;
  dir.write("exp.yaml", kTrainThenEvaluate);
  int code = 0;
  std::string output = test::run_wmhost(
      "run exp.yaml --out run +procedure.0.train.stop_after_steps=6", dir.path(), code);
  ASSERT_EQ(code, 3) << output;
  output = test::run_wmhost("run exp.yaml --out run", dir.path(), code);
  ASSERT_EQ(code, 0) << output;
  // two files; the second tells TensorBoard to drop the first one's steps after the checkpoint
  // (step 6, written when the run stopped), and then carries the steps the resumed run redoes
  std::string listed = test::run_python(dir, std::string(kReader) + R"py(
print(len(events_by_file))
second = events_by_file[1]
print([(e['step'], e['session_status']) for e in second if 'session_status' in e])
print(sorted({e['step'] for e in second if any(v['tag'] == 'train[train]/loss' for v in e['values'])}))
)py", "run/tb");
  EXPECT_EQ(listed, "2\n[(7, 1)]\n[8, 10, 12]\n");
}

TEST(TensorBoard, OffWritesNoEvents) {
  test::TempDir dir;
  dir.write("exp.yaml", kTrainThenEvaluate);
  int code = 0;
  std::string output = test::run_wmhost(
      "run exp.yaml --out run +procedure.0.train.tensorboard=false "
      "+procedure.1.evaluate.tensorboard=false",
      dir.path(), code);
  ASSERT_EQ(code, 0) << output;
  EXPECT_FALSE(fs::exists(dir.path() / "run" / "tb"));
  EXPECT_TRUE(fs::exists(dir.path() / "run" / "metrics.jsonl"));
}

}  // namespace
}  // namespace wm
