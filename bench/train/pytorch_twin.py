# The Python twin of wmhost's two_stream, single_stream and videomae training steps, for
# bench_train (which embeds this file and runs it with the interpreter of --python, by default
# the one whose torch its LibTorch came from). Every module mirrors the C++ in sdk/nn/src and
# plugins/models/*: same blocks, q/v biases, attention (SDPA on torch >= 2.0, as the C++ on
# LibTorch >= 2.0), frame decoder, gap sampling, tube masking, parameter shapes; the step mirrors
# host/procedures/train.cpp: loss, loss.item(), backward, clip_grad_norm_(1.0), AdamW (two
# groups), zero_grad. The variant chooses what Python does best (VARIANTS below).
#   info                                                        -> interpreter, torch, variants
#   case <variant> <model> <params> <batch> <frames> <size>     -> one line of results
#   profile <variant> <model> <params> <batch> <frames> <size> <trace.json> <steps>
#   aggregate <cpp_trace> <python_trace> <steps>                -> ops by self time, both sides
# info, case and profile take --libtorch <version> last: the LibTorch of bench_train, whose
# major.minor this torch must have (a comparison across versions measures the versions); "any"
# allows any torch.
import json, math, os, sys, time, traceback
import torch
import torch.nn as nn
import torch.nn.functional as F


#---- shared pieces (sdk/nn/src/transformer.cpp, future_prediction.cpp) ----

def sinusoid_table(positions, dim):
    position = torch.arange(positions, dtype=torch.float64).unsqueeze(1)
    channel = torch.arange(dim, dtype=torch.float64)
    angle = position / torch.pow(10000.0, 2.0 * torch.floor(channel / 2.0) / dim).unsqueeze(0)
    even = (channel.remainder(2) == 0).unsqueeze(0)
    return torch.where(even, torch.sin(angle), torch.cos(angle)).float()


def torch_version():  # (major, minor) of this torch
    return tuple(int(part) for part in torch.__version__.split("+")[0].split(".")[:2])


def attention(q, k, v):  # wm::nn::attention without a mask: SDPA where torch has it (>= 2.0)
    if torch_version() >= (2, 0):
        return F.scaled_dot_product_attention(q, k, v)
    scores = torch.matmul(q, k.transpose(-2, -1)).mul_(1.0 / math.sqrt(q.size(-1)))
    return torch.matmul(scores.softmax(-1), v)


class Attention(nn.Module):  # bias-free qkv, separate q and v biases (k bias fixed at zero)
    def __init__(self, dim, heads):
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(dim, 3 * dim, bias=False)
        self.q_bias = nn.Parameter(torch.zeros(dim))
        self.v_bias = nn.Parameter(torch.zeros(dim))
        self.proj = nn.Linear(dim, dim)

    def forward(self, x):
        b, n, d = x.shape
        bias = torch.cat((self.q_bias, torch.zeros_like(self.v_bias), self.v_bias))
        qkv = F.linear(x, self.qkv.weight, bias).reshape(b, n, 3, self.heads, d // self.heads).permute(2, 0, 3, 1, 4)
        out = attention(qkv[0], qkv[1], qkv[2]).transpose(1, 2).reshape(b, n, d)
        return self.proj(out)


class Mlp(nn.Module):
    def __init__(self, dim, hidden):
        super().__init__()
        self.fc1, self.fc2 = nn.Linear(dim, hidden), nn.Linear(hidden, dim)

    def forward(self, x):
        return self.fc2(F.gelu(self.fc1(x)))


class Block(nn.Module):
    def __init__(self, dim, heads, mlp_ratio=4.0):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, eps=1e-6)
        self.attn = Attention(dim, heads)
        self.norm2 = nn.LayerNorm(dim, eps=1e-6)
        self.mlp = Mlp(dim, int(dim * mlp_ratio))

    def forward(self, x):
        h = x + self.attn(self.norm1(x))
        return h + self.mlp(self.norm2(h))


def run_blocks(blocks, x, begin=0, end=None):
    for block in blocks[begin:end]:
        x = block(x)
    return x


class PatchEmbed(nn.Module):
    def __init__(self, proj):
        super().__init__()
        self.proj = proj


class VitEncoder(nn.Module):
    def __init__(self, channels, image_size, patch, dim, depth, heads):
        super().__init__()
        self.patch_embed = PatchEmbed(nn.Conv2d(channels, dim, patch, stride=patch))
        count = (image_size // patch) ** 2
        self.cls_token = nn.Parameter(torch.randn(1, 1, dim) * 0.02)
        self.register_buffer("pos_embed", sinusoid_table(count + 1, dim))
        self.blocks = nn.ModuleList([Block(dim, heads) for _ in range(depth)])
        self.norm = nn.LayerNorm(dim, eps=1e-6)

    def embed(self, images):
        tokens = self.patch_embed.proj(images).flatten(2).transpose(1, 2)
        cls = self.cls_token.expand(tokens.size(0), 1, tokens.size(2))
        return torch.cat((cls, tokens), 1) + self.pos_embed

    def run(self, tokens, begin, end):
        return run_blocks(self.blocks, tokens, begin, end)

    def finish(self, tokens):
        return self.norm(tokens)


class FrameDecoder(nn.Module):
    def __init__(self, input_dim, change_dim, dim, depth, heads, patches, out_dim):
        super().__init__()
        self.embed = nn.Linear(input_dim, dim)
        self.change_proj = nn.Linear(change_dim, dim)
        self.register_buffer("pos_embed", sinusoid_table(patches, dim))
        self.blocks = nn.ModuleList([Block(dim, heads) for _ in range(depth)])
        self.norm = nn.LayerNorm(dim, eps=1e-6)
        self.head = nn.Linear(dim, out_dim)

    def forward(self, tokens, change):
        x = self.embed(tokens) + self.pos_embed
        x = x + self.change_proj(change).unsqueeze(1)
        return self.head(self.norm(run_blocks(self.blocks, x)))

    def zero_output(self):
        with torch.no_grad():
            self.head.weight.zero_()
            self.head.bias.zero_()


def init_vit_weights(module):  # Xavier-uniform Linear weights, zero biases, LayerNorm (1, 0)
    with torch.no_grad():
        for child in module.modules():
            if isinstance(child, nn.Linear):
                nn.init.xavier_uniform_(child.weight)
                if child.bias is not None:
                    child.bias.zero_()
            elif isinstance(child, nn.LayerNorm):
                child.weight.fill_(1.0)
                child.bias.zero_()


def patchify(images, p):
    n, c, h, w = images.shape
    return images.reshape(n, c, h // p, p, w // p, p).permute(0, 2, 4, 3, 5, 1).reshape(n, (h // p) * (w // p), p * p * c)


def unpatchify(patches, p, c, h, w):
    n = patches.size(0)
    return patches.reshape(n, h // p, w // p, p, p, c).permute(0, 5, 1, 3, 2, 4).reshape(n, c, h, w)


def sample_frame_pairs(video, max_gap, sample_decay):
    batch, frames = video.size(0), video.size(1)
    weights = torch.empty(max_gap, dtype=torch.float64)
    for k in range(max_gap):
        weights[k] = sample_decay ** k
    gaps = torch.multinomial(weights, batch, replacement=True) + 1
    starts = (torch.rand(batch, dtype=torch.float64) * (frames - gaps).double()).floor().long()
    rows = torch.arange(batch)
    return video[rows, starts], video[rows, starts + gaps], gaps


def gap_weighted_mse(prediction, target, gaps, loss_decay, logs):
    per_sample = (prediction - target).pow(2).flatten(1).mean(1)
    weights = torch.pow(loss_decay, (gaps - 1).float())
    detached = per_sample.detach()
    for k in range(1, gaps.max().item() + 1):
        chosen = gaps == k
        if chosen.any().item():
            logs["mse_gap%d" % k] = detached.masked_select(chosen).mean().item()
    logs["mse"] = detached.mean().item()
    return (per_sample * weights).mean()


#---- models (plugins/models/*) ----

class TwoStreamNet(nn.Module):  # variant two_stream: M and P streams swapping CLS tokens
    def __init__(self, p):
        super().__init__()
        size, patch, dim, depth, heads = p["image_size"], p["patch"], p["dim"], p["depth"], p["heads"]
        self.patch, self.exchange = patch, p["exchange_layer"] if p["exchange_layer"] >= 0 else depth // 2
        self.m_stream = VitEncoder(3, size, patch, dim, depth, heads)
        self.p_stream = VitEncoder(3, size, patch, dim, depth, heads)
        self.change_head = nn.Linear(dim, p["change_dim"])
        self.decoder = FrameDecoder(dim, p["change_dim"], p["decoder_dim"], p["decoder_depth"], heads,
                                    (size // patch) ** 2, patch * patch * 3)
        init_vit_weights(self)
        if p.get("start_from_copy", True):
            self.decoder.zero_output()

    def forward(self, first, future):
        motion = future - first
        depth = len(self.m_stream.blocks)
        m = self.m_stream.run(self.m_stream.embed(motion), 0, self.exchange)
        a = self.p_stream.run(self.p_stream.embed(first), 0, self.exchange)
        m_cls = m[:, 0:1]
        m = torch.cat((a[:, 0:1], m[:, 1:]), 1)
        a = torch.cat((m_cls, a[:, 1:]), 1)
        m = self.m_stream.finish(self.m_stream.run(m, self.exchange, depth))
        a = self.p_stream.finish(self.p_stream.run(a, self.exchange, depth))
        change = self.change_head(m[:, 0])
        delta = self.decoder(a[:, 1:], change)
        return first + unpatchify(delta, self.patch, 3, first.size(2), first.size(3)), change


class SingleStreamNet(nn.Module):  # one ViT over [CLS, patches of t, patches of t+k]
    def __init__(self, p):
        super().__init__()
        size, patch, dim, heads = p["image_size"], p["patch"], p["dim"], p["heads"]
        self.patch = patch
        self.encoder = VitEncoder(3, size, patch, dim, p["depth"], heads)
        self.frame_embed = nn.Parameter(torch.zeros(2, dim))
        self.first_embed = nn.Linear(patch * patch * 3, dim)
        self.change_head = nn.Linear(dim, p["change_dim"])
        self.decoder = FrameDecoder(dim, p["change_dim"], p["decoder_dim"], p["decoder_depth"], heads,
                                    (size // patch) ** 2, patch * patch * 3)
        init_vit_weights(self)
        if p.get("start_from_copy", True):
            self.decoder.zero_output()

    def forward(self, first, future):
        a, b = self.encoder.embed(first), self.encoder.embed(future)
        tokens = torch.cat((a[:, 0:1], a[:, 1:] + self.frame_embed[0], b[:, 1:] + self.frame_embed[1]), 1)
        cls = self.encoder.finish(self.encoder.run(tokens, 0, len(self.encoder.blocks)))[:, 0]
        change = self.change_head(cls)
        appearance = self.first_embed(patchify(first, self.patch))
        delta = self.decoder(appearance, change)
        return first + unpatchify(delta, self.patch, 3, first.size(2), first.size(3)), change


class FuturePrediction:  # the loss() of two_stream and single_stream
    def __init__(self, net, p):
        self.net, self.p = net, p

    def loss(self, video):
        first, future, gaps = sample_frame_pairs(video, self.p["max_gap"], self.p["sample_decay"])
        predicted, _ = self.net(first, future)
        logs = {}
        return gap_weighted_mse(predicted, future, gaps, self.p["loss_decay"], logs), logs


class VideoMaeEncoder(nn.Module):
    def __init__(self, tubelet, patch, dim, depth, heads):
        super().__init__()
        self.patch_embed = PatchEmbed(nn.Conv3d(3, dim, (tubelet, patch, patch), stride=(tubelet, patch, patch)))
        self.blocks = nn.ModuleList([Block(dim, heads) for _ in range(depth)])
        self.norm = nn.LayerNorm(dim, eps=1e-6)


class VideoMaeDecoder(nn.Module):
    def __init__(self, dim, depth, heads, out_dim):
        super().__init__()
        self.blocks = nn.ModuleList([Block(dim, heads) for _ in range(depth)])
        self.norm = nn.LayerNorm(dim, eps=1e-6)
        self.head = nn.Linear(dim, out_dim)

    def forward(self, x, count):
        last = run_blocks(self.blocks, x)[:, x.size(1) - count:]
        return self.head(self.norm(last))


class VideoMaeNet(nn.Module):
    def __init__(self, p):
        super().__init__()
        sizes = {"tiny": (192, 12, 3, 96, 3), "small": (384, 12, 6, 192, 3), "base": (768, 12, 12, 384, 6)}
        dim, depth, heads, ddim, dheads = sizes.get(p["size"], (p["dim"], p["depth"], p["heads"], p["decoder_dim"], p["decoder_heads"]))
        self.tubelet, self.patch = p["tubelet"], p["patch"]
        self.grid = (p["image_size"] // self.patch) ** 2
        self.tokens = self.grid * (p["frames"] // self.tubelet)
        self.encoder = VideoMaeEncoder(self.tubelet, self.patch, dim, depth, heads)
        self.encoder_to_decoder = nn.Linear(dim, ddim, bias=False)
        self.mask_token = nn.Parameter(torch.zeros(1, 1, ddim))
        self.decoder = VideoMaeDecoder(ddim, p["decoder_depth"], dheads, self.tubelet * self.patch * self.patch * 3)
        self.encoder_pos = sinusoid_table(self.tokens, dim).unsqueeze(0)   # plain tensors, as in C++
        self.decoder_pos = sinusoid_table(self.tokens, ddim).unsqueeze(0)
        init_vit_weights(self)
        with torch.no_grad():
            self.mask_token.normal_(0.0, 0.02).clamp_(-2.0, 2.0)

    def tube_mask(self, batch, ratio):
        masked = int(ratio * self.grid)
        order = torch.rand(batch, self.grid).argsort(1)
        return (order < masked).repeat(1, self.tokens // self.grid)

    def forward(self, video, mask):
        batch = video.size(0)
        x = self.encoder.patch_embed.proj(video).flatten(2).transpose(1, 2) + self.encoder_pos
        dim = x.size(2)
        visible = x.masked_select(mask.logical_not().unsqueeze(-1)).view(batch, -1, dim)
        encoded = self.encoder_to_decoder(self.encoder.norm(run_blocks(self.encoder.blocks, visible)))
        pos = self.decoder_pos.expand(batch, -1, -1)
        ddim = pos.size(2)
        pos_visible = pos.masked_select(mask.logical_not().unsqueeze(-1)).view(batch, -1, ddim)
        pos_masked = pos.masked_select(mask.unsqueeze(-1)).view(batch, -1, ddim)
        full = torch.cat((encoded + pos_visible, self.mask_token + pos_masked), 1)
        return self.decoder(full, pos_masked.size(1))

    def tubelets(self, clip):
        b, t, h, w = clip.size(0), clip.size(2) // self.tubelet, clip.size(3) // self.patch, clip.size(4) // self.patch
        return clip.reshape(b, 3, t, self.tubelet, h, self.patch, w, self.patch).permute(0, 2, 4, 6, 3, 5, 7, 1) \
                   .reshape(b, t * h * w, self.tubelet * self.patch * self.patch, 3)


class VideoMae:  # the loss() of plugins/models/videomae
    def __init__(self, net, p):
        self.net, self.p = net, p

    @staticmethod
    def normalise(clip):  # ImageNet mean and std, made per call as the plugin does
        mean = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1, 1)
        std = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1, 1)
        return (clip - mean) / std

    def loss(self, video):
        clip = video[:, :self.p["frames"]].permute(0, 2, 1, 3, 4).contiguous()
        mask = self.net.tube_mask(clip.size(0), self.p["mask_ratio"])
        predicted = self.net(self.normalise(clip), mask)
        pixels = self.net.tubelets(clip)
        if self.p["normalize_target"]:
            pixels = (pixels - pixels.mean(2, True)) / (pixels.var(2, True, True).sqrt() + 1e-6)
        target = pixels.flatten(2).masked_select(mask.unsqueeze(-1)).view_as(predicted)
        loss = F.mse_loss(predicted, target)
        return loss, {"mse": loss.item()}


def build(model, p):
    if model == "two_stream":
        net = TwoStreamNet(p)
        return net, FuturePrediction(net, p)
    if model == "single_stream":
        net = SingleStreamNet(p)
        return net, FuturePrediction(net, p)
    net = VideoMaeNet(p)
    return net, VideoMae(net, p)


#---- the training step and its measurement ----

def parse_params(text):  # the flat YAML flow map bench_train gives the plugin: {a: 1, b: x}
    params = {}
    for item in text.strip().strip("{}").split(","):
        key, value = (s.strip() for s in item.split(":", 1))
        for kind in (int, float):
            try:
                params[key] = kind(value)
                break
            except ValueError:
                pass
        else:
            params[key] = {"true": True, "false": False}.get(value, value)
    return params


def memory_kb(field):
    for line in open("/proc/self/status"):
        if line.startswith(field + ":"):
            return int(line.split()[1])


def reset_peak():  # "5" resets VmHWM to the current RSS (Linux >= 4.0)
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        pass


#---- the variants: what Python does best on each torch ----

class Variant:
    def __init__(self, optimizer, mode, needs, why):
        self.optimizer = optimizer  # AdamW's keyword: foreach or fused
        self.mode = mode            # torch.compile mode, or None for eager
        self.needs, self.why = needs, why  # the oldest torch that has it, and what it lacks otherwise


VARIANTS = {
    # torch 1.13's AdamW default is a per-parameter loop; foreach is the faster multi-tensor path
    "eager": Variant({"foreach": True}, None, (1, 13), ""),
    "fused": Variant({"fused": True}, None, (2, 4), "AdamW(fused=True) on CPU needs torch >= 2.4"),
    # the network's forward (and through AOTAutograd its backward) compiled; the loss's sampling
    # and logging, clip_grad_norm_ and the fused AdamW stay eager
    "compile": Variant({"fused": True}, "default", (2, 4), "torch.compile + fused AdamW need torch >= 2.4"),
    # on CPU there are no CUDA graphs: reduce-overhead compiles as default does
    "compile-ro": Variant({"fused": True}, "reduce-overhead", (2, 4), "torch.compile + fused AdamW need torch >= 2.4"),
}


def check_torch(libtorch):  # refuses a comparison across torch versions unless asked ("any")
    if libtorch == "any":
        return
    want = tuple(int(part) for part in libtorch.split(".")[:2])
    if want != torch_version():
        sys.stderr.write("pytorch_twin: %s has torch %s, bench_train's LibTorch is %s: comparing them would "
                         "measure the versions; give bench_train --python with a torch %d.%d, or --any-torch\n"
                         % (sys.executable, torch.__version__, libtorch, want[0], want[1]))
        sys.exit(3)


def error_line(error):  # the first line of the innermost cause, which names the real problem
    while error.__cause__ is not None:
        error = error.__cause__
    lines = str(error).strip().splitlines()
    return "%s: %s" % (type(error).__name__, lines[0] if lines else "")


#---- the training step and its measurement ----

def setup(argv):
    model, params, batch, frames, size = argv[0], parse_params(argv[1]), int(argv[2]), int(argv[3]), int(argv[4])
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "2")))
    torch.manual_seed(0)
    net, task = build(model, params)
    net.train()
    video = torch.rand(batch, frames, 3, size, size)
    return net, task, video


def make_step(net, task, video, variant):
    decay = [p for p in net.parameters() if p.requires_grad and p.dim() > 1]
    no_decay = [p for p in net.parameters() if p.requires_grad and p.dim() <= 1]
    optimizer = torch.optim.AdamW([{"params": decay, "weight_decay": 0.05},
                                   {"params": no_decay, "weight_decay": 0.0}],
                                  lr=1e-4, betas=(0.9, 0.999), eps=1e-8, **variant.optimizer)
    params = decay + no_decay
    if variant.mode:  # compiles lazily, in the first step; the task reaches net's helpers through it
        task.net = torch.compile(net, mode=variant.mode)

    def step(phases=None):  # phases: a list that receives the seconds of each phase
        start = time.perf_counter()
        loss, logs = task.loss(video)
        value = loss.item()
        if not math.isfinite(value):
            raise RuntimeError("non-finite loss")
        forward = time.perf_counter()
        (loss / 1).backward()
        backward = time.perf_counter()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        if phases is not None:
            phases.append((forward - start, backward - forward, time.perf_counter() - backward))
        return value
    return step


def warm_up(step, variant):  # untimed: a compiled variant's first step (compilation) is timed apart
    compile_s = 0.0
    if variant.mode:
        start = time.perf_counter()
        step()
        compile_s = time.perf_counter() - start
    warm = []
    for _ in range(3):
        start = time.perf_counter(); step(); warm.append(time.perf_counter() - start)
    return compile_s, min(warm)


def print_phases(phases):  # medians in ms: the same line format as bench_train's C++ side
    med = [sorted(p[i] for p in phases)[len(phases) // 2] * 1e3 for i in range(3)]
    print("phases %.3f %.3f %.3f" % tuple(med))


def preload(variant):  # torch 2.x imports torch._dynamo (sympy, ...) with its first optimizer: ~150 MB
    parameter = nn.Parameter(torch.zeros(2))  # of modules that are not training memory
    parameter.grad = torch.zeros(2)
    torch.nn.utils.clip_grad_norm_([parameter], 1.0)
    torch.optim.AdamW([parameter], **variant.optimizer).step()


def available(name):  # prints why not, in the line bench_train reads
    variant = VARIANTS[name]
    if torch_version() < variant.needs:
        print("unavailable %s" % variant.why)
        return None
    return variant


def measure(argv):
    variant = available(argv[0])
    if variant is None:
        return
    net, task, video = setup(argv[1:6])
    count = sum(p.numel() for p in net.parameters())
    preload(variant)
    base_kb = memory_kb("VmRSS")
    reset_peak()
    step = make_step(net, task, video, variant)
    try:
        # warm-up (also sizes a timed run to about half a second), then 5 timed runs
        compile_s, fastest = warm_up(step, variant)
        steps = max(2, min(200, math.ceil(0.5 / fastest)))
        rates = []
        for _ in range(5):
            start = time.perf_counter()
            for _ in range(steps):
                step()
            rates.append(steps / (time.perf_counter() - start))
    except Exception as error:
        if not variant.mode:
            raise
        traceback.print_exc()  # bench_train keeps stderr in its log; the table gets one line
        print("failed %s" % error_line(error))
        return
    rates.sort()
    peak_mb = (memory_kb("VmHWM") - base_kb) / 1024.0
    print("params %d steps_per_s %.6f peak_mb %.3f steps %d compile_s %.3f"
          % (count, rates[len(rates) // 2], peak_mb, steps, compile_s))


def profile(argv):
    variant = available(argv[0])
    if variant is None:
        return
    net, task, video = setup(argv[1:6])
    trace, steps = argv[6], int(argv[7])
    step = make_step(net, task, video, variant)
    warm_up(step, variant)
    phases = []
    for _ in range(steps):
        step(phases)
    print_phases(phases)
    with torch.autograd.profiler.profile() as prof:
        for _ in range(steps):
            step()
    # export_chrome_trace rounds to whole microseconds, which zeroes the many tiny ops; write the
    # events with the fractional times the C++ RecordProfile trace has
    events = [{"name": e.name, "ph": "X", "ts": e.time_range.start, "dur": e.time_range.elapsed_us(),
               "tid": e.thread} for e in prof.function_events]
    with open(trace, "w") as f:
        json.dump(events, f)


def info(argv):  # the interpreter, its torch and the variants it has, one per line
    print("python %s" % sys.executable)
    print("torch %s" % torch.__version__)
    print("attention %s" % ("scaled_dot_product_attention" if torch_version() >= (2, 0) else "softmax(q k^T / sqrt d) v"))
    for name, variant in VARIANTS.items():
        if torch_version() < variant.needs:
            print("unavailable %s %s" % (name, variant.why))
        else:
            print("variant %s" % name)


def self_times(path):  # op name -> (self microseconds, calls), nesting rebuilt per thread
    with open(path) as f:
        data = json.load(f)
    events = data["traceEvents"] if isinstance(data, dict) else data
    by_thread = {}
    for e in events:
        if e.get("ph") == "X":
            by_thread.setdefault(e.get("tid"), []).append((float(e["ts"]), float(e["dur"]), e["name"]))
    totals = {}
    for spans in by_thread.values():
        spans.sort(key=lambda s: (s[0], -s[1]))
        stack = []  # [end, name, child time]

        def close(entry):
            end, name, dur, children = entry
            t, c = totals.get(name, (0.0, 0))
            totals[name] = (t + dur - children, c + 1)
            if stack:
                stack[-1][3] += dur
        for ts, dur, name in spans:
            while stack and stack[-1][0] <= ts:
                close(stack.pop())
            stack.append([ts + dur, name, dur, 0.0])
        while stack:
            close(stack.pop())
    return totals


def aggregate(argv):
    cpp, py, steps = self_times(argv[0]), self_times(argv[1]), int(argv[2])
    names = sorted(set(cpp) | set(py), key=lambda n: -max(cpp.get(n, (0, 0))[0], py.get(n, (0, 0))[0]))
    total_c = sum(t for t, _ in cpp.values()) / steps / 1e3
    total_p = sum(t for t, _ in py.values()) / steps / 1e3
    print("  %-36s %10s %8s %10s %8s %9s" % ("op (self time per step)", "C++ ms", "calls", "Python ms", "calls", "C++-Py ms"))
    for n in names[:25]:
        tc, cc = cpp.get(n, (0.0, 0))
        tp, cp = py.get(n, (0.0, 0))
        print("  %-36s %10.2f %8d %10.2f %8d %+9.2f" % (n[:36], tc / steps / 1e3, cc // steps, tp / steps / 1e3,
                                                      cp // steps, (tc - tp) / steps / 1e3))
    calls_c = sum(c for _, c in cpp.values()) // steps
    calls_p = sum(c for _, c in py.values()) // steps
    print("  %-36s %10.2f %8d %10.2f %8d %+9.2f" % ("all ops", total_c, calls_c, total_p, calls_p, total_c - total_p))


if __name__ == "__main__":
    command, args = sys.argv[1], sys.argv[2:]
    if len(args) >= 2 and args[-2] == "--libtorch":
        check_torch(args[-1])
        args = args[:-2]
    {"info": info, "case": measure, "profile": profile, "aggregate": aggregate}[command](args)
