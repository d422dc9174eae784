// wm::video::Reader: demux (libavformat), decode (libavcodec, frame threads), convert to RGB and
// resize (libswscale) only the frames a clip keeps.
#include <ATen/ATen.h>
#ifdef __linux__
#include <sys/mman.h>  // madvise
#endif

#include <algorithm>
#include <cmath>
#include <cstring>
#include <deque>
#include <unordered_set>

#include "ffmpeg.h"
#include "wm/error.h"
#include "wm/video/video.h"

namespace wm::video {


using namespace detail;

namespace {

// a frame counts as "at" a time up to this much before it (timestamps are rounded to ticks)
constexpr double kTimeTolerance = 1e-6;
// packets come in decoding order, at most this many frames away from presentation order (H.264
// and HEVC reorder at most 16), so reading this many past a time shows every frame before it
constexpr int kReorderWindow = 32;
// a clip plans by reading packets ahead of the decoder; past this many bytes (a long sparse clip
// of a large video) it stops planning and decodes every frame instead
constexpr int64_t kMaxReadAhead = int64_t(64) << 20;

// an in-memory file for libavformat: read and seek over a string
struct MemoryFile {
  std::string bytes;
  int64_t position = 0;

  static int read(void* opaque, uint8_t* buffer, int size) {
    auto* file = static_cast<MemoryFile*>(opaque);
    int64_t left = static_cast<int64_t>(file->bytes.size()) - file->position;
    if (left <= 0) return AVERROR_EOF;
    int n = static_cast<int>(std::min<int64_t>(left, size));
    std::memcpy(buffer, file->bytes.data() + file->position, n);
    file->position += n;
    return n;
  }
  static int64_t seek(void* opaque, int64_t offset, int whence) {
    auto* file = static_cast<MemoryFile*>(opaque);
    int64_t size = static_cast<int64_t>(file->bytes.size());
    switch (whence & ~AVSEEK_FORCE) {
      case AVSEEK_SIZE: return size;
      case SEEK_SET: break;
      case SEEK_CUR: offset += file->position; break;
      case SEEK_END: offset += size; break;
      default: return AVERROR(EINVAL);
    }
    if (offset < 0) return AVERROR(EINVAL);
    file->position = offset;
    return offset;
  }
};

// uint8 [count, 3, height, width], uninitialised. A whole video is hundreds of megabytes of fresh
// memory whose first writes fault in a 4 KiB page at a time (a large share of read_all's time
// in a profile); where Linux offers transparent huge pages on request, it asks for 2 MiB pages.
at::Tensor new_frames(int64_t count, int64_t height, int64_t width) {
  auto frames = at::empty({count, 3, height, width}, at::kByte);
#if defined(__linux__) && defined(MADV_HUGEPAGE)
  constexpr uintptr_t kHugePage = uintptr_t(2) << 20;
  auto begin = reinterpret_cast<uintptr_t>(frames.data_ptr());
  uintptr_t end = (begin + frames.nbytes()) & ~(kHugePage - 1);
  begin = (begin + kHugePage - 1) & ~(kHugePage - 1);
  if (end > begin) madvise(reinterpret_cast<void*>(begin), end - begin, MADV_HUGEPAGE);
#endif
  return frames;
}

}  // namespace

//---- the open file ----

struct Reader::Impl {
  std::string name;
  std::unique_ptr<MemoryFile> memory;  // from_bytes only
  AVIOContext* io = nullptr;           // from_bytes only; freed after the format context
  std::unique_ptr<AVFormatContext, FreeFormat> format;
  CodecPtr decoder;
  AVStream* stream = nullptr;
  int stream_index = -1;
  int64_t stream_start = 0;  // pts of the stream's start, in stream time base
  double time_base = 0;      // seconds per tick
  Info info;
  bool duration_known = false;  // the video stream's end is known (truncation check)

  PacketPtr packet{av_packet_alloc()};
  FramePtr frame{av_frame_alloc()};     // the frame next_frame() produced
  FramePtr previous{av_frame_alloc()};  // the one before it (nearest-frame resampling)
  bool restarting = false;  // the decoder is flushing before it restarts at a later keyframe
  bool replay = false;      // next_frame() hands out `frame` again (after a seek check)
  bool fresh = true;        // nothing decoded since the file was opened
  double last_time = 0;     // time of `frame`
  // A clip's plan (plan_clip): packets read ahead of the decoder, the pts of those already sent
  // since the last seek, and the pts of the frames the clip keeps (empty: no plan, decode every
  // frame). The decoder skips the other frames that no frame refers to (H.264's non-reference
  // B-frames: 46% of the frames of an x264 default encode), never others, and jumps over whole
  // groups of pictures that no kept frame needs (sparse clips: low fps, long strides).
  std::deque<PacketPtr> ahead;
  std::vector<int64_t> sent_pts;
  std::unordered_set<int64_t> kept_pts;

  std::unique_ptr<SwsContext, FreeScaler> scaler;
  int colorspace = -1, color_range = -1;  // what `scaler`'s colour tables were set for
  uint8_t* rgb[4] = {};                   // packed RGB scratch, aligned rows
  int rgb_linesize[4] = {};
  int64_t rgb_width = 0, rgb_height = 0;

  std::vector<double> times;

  ~Impl() {
    av_freep(&rgb[0]);
    format.reset();
    if (io) {
      av_freep(&io->buffer);
      avio_context_free(&io);
    }
  }

  // FFmpeg's own last complaint ("moov atom not found") says more than its error code
  [[noreturn]] void fail(const std::string& what, int code = 0) const {
    std::string detail = last_ffmpeg_error();
    throw DataError(name, (code ? what + ": " + error_text(code) : what) +
                              (detail.empty() ? "" : " (" + detail + ")"));
  }

  void open(int threads);
  double seconds(const AVFrame* decoded) const;
  double seconds(int64_t pts) const { return (pts - stream_start) * time_base; }
  bool read_packet(AVPacket* into);
  size_t keyframe_to_jump_to() const;
  bool next_frame();
  void seek(double start);
  void plan_clip(const ClipRequest& request);
  void check_complete() const;
  std::pair<int64_t, int64_t> output_size(int64_t width, int64_t height) const;
  void convert(const AVFrame* source, at::Tensor& out, int64_t width, int64_t height, int flags);
};

void Reader::Impl::open(int threads) {
  route_ffmpeg_log();
  last_ffmpeg_error();
  // open and probe: the container, then the first video stream
  AVFormatContext* context = avformat_alloc_context();
  if (io) context->pb = io;  // from_bytes: `name` only hints at the format
  int code = avformat_open_input(&context, name.c_str(), nullptr, nullptr);
  if (code < 0) fail("cannot open as a video", code);  // avformat_open_input freed `context`
  format.reset(context);
  if ((code = avformat_find_stream_info(context, nullptr)) < 0)
    fail("cannot read the stream parameters", code);
  const AVCodec* codec = nullptr;
  stream_index = av_find_best_stream(context, AVMEDIA_TYPE_VIDEO, -1, -1, &codec, 0);
  if (stream_index < 0) fail("has no video stream");
  if (!codec) fail("no decoder for its video codec");
  stream = context->streams[stream_index];
  for (unsigned i = 0; i < context->nb_streams; ++i)
    if (static_cast<int>(i) != stream_index) context->streams[i]->discard = AVDISCARD_ALL;

  // the decoder: frame threads unless asked for one thread
  decoder.reset(avcodec_alloc_context3(codec));
  if ((code = avcodec_parameters_to_context(decoder.get(), stream->codecpar)) < 0)
    fail("bad codec parameters", code);
  decoder->thread_count = threads;
  decoder->thread_type = FF_THREAD_FRAME | FF_THREAD_SLICE;
  decoder->pkt_timebase = stream->time_base;
  if ((code = avcodec_open2(decoder.get(), codec, nullptr)) < 0)
    fail(std::string("cannot open the ") + codec->name + " decoder", code);

  // what the container says
  time_base = av_q2d(stream->time_base);
  stream_start = stream->start_time != AV_NOPTS_VALUE ? stream->start_time : 0;
  info.width = stream->codecpar->width;
  info.height = stream->codecpar->height;
  if (info.width <= 0 || info.height <= 0) fail("video stream has no frame size");
  AVRational rate = stream->avg_frame_rate.num > 0 ? stream->avg_frame_rate : stream->r_frame_rate;
  info.fps = rate.num > 0 && rate.den > 0 ? av_q2d(rate) : 0;
  // the duration: the stream's own, else the container's (the longest stream's: only taken as
  // the video's for the truncation check when there is no other stream)
  duration_known = stream->duration != AV_NOPTS_VALUE && stream->duration > 0;
  if (duration_known) {
    info.duration = stream->duration * time_base;
  } else if (context->duration != AV_NOPTS_VALUE && context->duration > 0) {
    info.duration = static_cast<double>(context->duration) / AV_TIME_BASE;
    duration_known = context->nb_streams == 1;
  }
  info.frame_count = stream->nb_frames > 0 ? stream->nb_frames
                                           : static_cast<int64_t>(std::llround(info.duration * info.fps));
  info.codec = avcodec_get_name(stream->codecpar->codec_id);
}

// presentation time in seconds from the stream's start
double Reader::Impl::seconds(const AVFrame* decoded) const {
  int64_t pts = decoded->best_effort_timestamp;
  if (pts == AV_NOPTS_VALUE) pts = decoded->pts;
  if (pts == AV_NOPTS_VALUE) return last_time + (info.fps > 0 ? 1 / info.fps : 0);
  return seconds(pts);
}

// the next packet of the video stream from the demuxer into `into`; false at the end
bool Reader::Impl::read_packet(AVPacket* into) {
  while (true) {
    int code = av_read_frame(format.get(), into);
    if (code == AVERROR_EOF || (code < 0 && avio_feof(format->pb))) {
      if (format->pb && format->pb->error < 0) fail("read error", format->pb->error);
      return false;
    }
    if (code < 0) fail("cannot read", code);
    if (into->stream_index == stream_index) return true;
    av_packet_unref(into);
  }
}

// During a planned clip: the position in `ahead` of the last keyframe at or before the next
// kept frame, when packets lie between it and the decoder (0: none to jump over). Decoding
// restarts there as after a seek, so the same trust in keyframe flags applies (a mis-flagged
// frame would spoil the frames after it, here in mid-clip), and the keyframe must begin a closed
// group: no packet after it shows a frame before it (open GOPs' leading pictures need the group
// before).
size_t Reader::Impl::keyframe_to_jump_to() const {
  if (kept_pts.empty()) return 0;
  size_t jump = 0;
  for (size_t i = 0; i < ahead.size(); ++i) {
    const AVPacket& candidate = *ahead[i];
    if (i > 0 && (candidate.flags & AV_PKT_FLAG_KEY)) {
      size_t end = std::min(ahead.size(), i + kReorderWindow);
      bool closed = std::all_of(ahead.begin() + static_cast<std::ptrdiff_t>(i) + 1,
                                ahead.begin() + static_cast<std::ptrdiff_t>(end),
                                [&](const PacketPtr& later) { return later->pts > candidate.pts; });
      if (closed) jump = i;
    }
    if (kept_pts.count(candidate.pts)) break;  // a kept frame: everything before it may be needed
  }
  return jump;
}

// the next frame in presentation order into `frame`; false at the end of the stream
bool Reader::Impl::next_frame() {
  if (replay) {
    replay = false;
    return true;
  }
  fresh = false;
  while (true) {
    int code = avcodec_receive_frame(decoder.get(), frame.get());
    if (code == 0) {
      last_time = seconds(frame.get());
      return true;
    }
    if (code == AVERROR_EOF && restarting) {
      // every frame sent before the jump is out: the decoder starts again at the keyframe
      avcodec_flush_buffers(decoder.get());
      restarting = false;
      continue;
    }
    if (code == AVERROR_EOF) return false;
    if (code != AVERROR(EAGAIN)) fail("corrupt video data", code);
    // the decoder wants input: the next packet (read ahead or from the demuxer), or the end
    if (size_t jump = keyframe_to_jump_to()) {
      ahead.erase(ahead.begin(), ahead.begin() + static_cast<std::ptrdiff_t>(jump));
      restarting = true;
      avcodec_send_packet(decoder.get(), nullptr);  // drain what was sent before the jump
      continue;
    }
    if (!ahead.empty()) {
      av_packet_move_ref(packet.get(), ahead.front().get());
      ahead.pop_front();
    } else if (!read_packet(packet.get())) {
      avcodec_send_packet(decoder.get(), nullptr);
      continue;
    }
    decoder->skip_frame = !kept_pts.empty() && !kept_pts.count(packet->pts) ? AVDISCARD_NONREF : AVDISCARD_DEFAULT;
    sent_pts.push_back(packet->pts);
    code = avcodec_send_packet(decoder.get(), packet.get());
    av_packet_unref(packet.get());
    if (code < 0 && code != AVERROR(EAGAIN)) fail("corrupt video data", code);
  }
}

// Positions the decoder so that next_frame() yields the first frame at or after `start` or
// earlier ones. Seeks to the keyframe before `start`; when the container's index lands after
// `start` (B-frame reordering, sparse indexes, an open GOP's keyframe shown after frames that
// follow it), steps back a second at a time, then rewinds.
void Reader::Impl::seek(double start) {
  replay = false;
  if (fresh && start <= 0) return;
  for (double back = 0;; back = back == 0 ? 1 : back * 2) {
    double target = std::max(0.0, start - back);
    int64_t ticks = stream_start + static_cast<int64_t>(std::floor(target / time_base));
    int code = target > 0 ? av_seek_frame(format.get(), stream_index, ticks, AVSEEK_FLAG_BACKWARD)
                          : avformat_seek_file(format.get(), stream_index, INT64_MIN,
                                               stream_start, stream_start, 0);
    if (code < 0 && target > 0) continue;  // try further back, down to the start
    if (code < 0) fail("cannot seek to the start", code);
    avcodec_flush_buffers(decoder.get());
    restarting = false;
    ahead.clear();
    sent_pts.clear();
    kept_pts.clear();
    // Decoding starts at the packet the seek lands on. When that is a keyframe, the frames shown
    // before it (an open GOP's leading pictures) refer to the group before and come out spoilt,
    // so only the keyframe's own time counts; otherwise the first frame the decoder gives.
    PacketPtr first{av_packet_alloc()};
    if (!read_packet(first.get())) return;  // nothing left: the caller pads or reports
    bool keyframe = (first->flags & AV_PKT_FLAG_KEY) && first->pts != AV_NOPTS_VALUE;
    double keyframe_time = keyframe ? seconds(first->pts) : 0;
    ahead.push_back(std::move(first));
    if (!next_frame()) return;
    replay = true;
    double decodable_from = keyframe ? keyframe_time : last_time;
    if (target <= 0 || decodable_from <= start + kTimeTolerance) return;
  }
}

// After seek(): reads packets ahead until the presentation time of every frame the clip can
// use is known, then names the frames it keeps: every stride-th from the first at or after the
// start, or the frame nearest each target time. Leaves `kept_pts` empty when a packet has no pts
// or the video ends before the clip does (then padding decides, from frames decoded as usual).
void Reader::Impl::plan_clip(const ClipRequest& request) {
  const int64_t span = (request.frames - 1) * request.stride + 1;  // frames a stride clip covers
  const double last_target = request.start + (request.frames - 1) / std::max(request.fps, 1e-9);
  // the clip's end is in sight once enough frames count: stride clips need `span` frames at or
  // after the start, fps clips one at or after the last target (the nearest may lie either side)
  auto counts = [&](int64_t pts) {
    return seconds(pts) >= (request.fps > 0 ? last_target : request.start - kTimeTolerance);
  };
  const int64_t enough = request.fps > 0 ? 1 : span;
  // a packet without a time cannot be planned around: decode every frame
  auto timeless = [](int64_t pts) { return pts == AV_NOPTS_VALUE; };
  std::vector<int64_t> pts = sent_pts;
  if (std::any_of(pts.begin(), pts.end(), timeless)) return;
  int64_t counted = std::count_if(pts.begin(), pts.end(), counts), bytes = 0;
  int beyond = counted >= enough ? 0 : -1;  // packets read since the end came in sight
  while (beyond < kReorderWindow) {
    if (bytes > kMaxReadAhead) return;
    PacketPtr next{av_packet_alloc()};
    if (!read_packet(next.get())) break;  // the end: every frame is known
    if (timeless(next->pts)) {
      ahead.push_back(std::move(next));
      return;
    }
    pts.push_back(next->pts);
    bytes += next->size;
    counted += counts(next->pts);
    ahead.push_back(std::move(next));
    if (beyond >= 0) ++beyond;
    else if (counted >= enough) beyond = 0;
  }
  if (counted < enough) return;

  // frames are told apart by their times: a repeated one (coarse time base, broken remux) would
  // be emitted twice, so such a video is decoded frame by frame
  std::sort(pts.begin(), pts.end());
  if (std::adjacent_find(pts.begin(), pts.end()) != pts.end()) return;
  if (request.fps > 0) {
    for (int64_t k = 0; k < request.frames; ++k) {
      double target = request.start + k / request.fps;
      auto after = std::lower_bound(pts.begin(), pts.end(), target - kTimeTolerance,
                                    [&](int64_t p, double time) { return seconds(p) < time; });
      // the nearest to the target; ties go to the earlier frame, as read_clip resolves them
      if (after == pts.end() ||
          (after != pts.begin() && target - seconds(*(after - 1)) <= seconds(*after) - target))
        --after;
      kept_pts.insert(*after);
    }
  } else {
    auto first = std::find_if(pts.begin(), pts.end(), counts);
    for (int64_t k = 0; k < span; k += request.stride) kept_pts.insert(*(first + k));
  }
}

// the end of the stream came before the container's own duration: a truncated file
void Reader::Impl::check_complete() const {
  double frame_time = info.fps > 0 ? 1 / info.fps : 0;
  if (duration_known && last_time + 3 * frame_time + 0.1 < info.duration)
    fail("truncated: the video data ends at " + std::to_string(last_time) + " s of " +
         std::to_string(info.duration) + " s");
}

// the output size for requested width/height (0 = native, one 0 keeps the aspect ratio)
std::pair<int64_t, int64_t> Reader::Impl::output_size(int64_t width, int64_t height) const {
  if (width < 0 || height < 0)
    throw Error("video size must be >= 0, got " + std::to_string(width) + "x" + std::to_string(height));
  if (width == 0 && height == 0) return {info.width, info.height};
  if (width == 0) width = std::max<int64_t>(1, std::llround(double(info.width) * height / info.height));
  if (height == 0) height = std::max<int64_t>(1, std::llround(double(info.height) * width / info.width));
  return {width, height};
}

// one decoded frame -> RGB24 at width x height -> out uint8 [3, height, width]
void Reader::Impl::convert(const AVFrame* source, at::Tensor& out, int64_t width, int64_t height,
                           int flags) {
  SwsContext* previous_scaler = scaler.get();
  scaler.release();
  scaler.reset(sws_getCachedContext(previous_scaler, source->width, source->height,
                                    static_cast<AVPixelFormat>(source->format), width, height,
                                    AV_PIX_FMT_RGB24, flags, nullptr, nullptr, nullptr));
  if (!scaler) fail("cannot convert pixel format " + std::to_string(source->format) + " to RGB");
  // the colour matrix and range the frame declares, as ffmpeg's scale filter sets them
  if (scaler.get() != previous_scaler || source->colorspace != colorspace ||
      source->color_range != color_range) {
    int *inverse_table, *table, source_full, out_full, brightness, contrast, saturation;
    if (sws_getColorspaceDetails(scaler.get(), &inverse_table, &source_full, &table, &out_full,
                                 &brightness, &contrast, &saturation) >= 0) {
      const int* coefficients = sws_getCoefficients(source->colorspace);
      if (source->color_range != AVCOL_RANGE_UNSPECIFIED)
        source_full = source->color_range == AVCOL_RANGE_JPEG;
      sws_setColorspaceDetails(scaler.get(), coefficients, source_full, coefficients, out_full,
                               brightness, contrast, saturation);
    }
    colorspace = source->colorspace;
    color_range = source->color_range;
  }
  if (width != rgb_width || height != rgb_height) {
    av_freep(&rgb[0]);
    if (av_image_alloc(rgb, rgb_linesize, width, height, AV_PIX_FMT_RGB24, 64) < 0)
      throw Error("out of memory for a " + std::to_string(width) + "x" + std::to_string(height) + " frame");
    rgb_width = width;
    rgb_height = height;
  }
  sws_scale(scaler.get(), source->data, source->linesize, 0, source->height, rgb, rgb_linesize);
  rgb24_to_planes(rgb[0], rgb_linesize[0], width, height, out.data_ptr<uint8_t>());
}

//---- Reader ----

Reader::Reader(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Reader::Reader(Reader&&) noexcept = default;
Reader& Reader::operator=(Reader&&) noexcept = default;
Reader::~Reader() = default;

Reader::Reader(const std::filesystem::path& file, int threads) : impl_(std::make_unique<Impl>()) {
  impl_->name = file.string();
  std::error_code error;
  if (!std::filesystem::exists(file, error)) impl_->fail("no such file");
  if (std::filesystem::is_directory(file, error)) impl_->fail("is a directory, not a video file");
  impl_->open(threads);
}

Reader Reader::from_bytes(std::string bytes, const std::string& name, int threads) {
  auto impl = std::make_unique<Impl>();
  impl->name = name;
  if (bytes.empty()) impl->fail("empty file");
  impl->memory = std::make_unique<MemoryFile>();
  impl->memory->bytes = std::move(bytes);
  constexpr int kBufferSize = 1 << 16;
  auto* buffer = static_cast<uint8_t*>(av_malloc(kBufferSize));
  impl->io = avio_alloc_context(buffer, kBufferSize, 0, impl->memory.get(), &MemoryFile::read,
                                nullptr, &MemoryFile::seek);
  if (!impl->io) {
    av_free(buffer);
    throw Error("out of memory opening " + name);
  }
  impl->open(threads);
  return Reader(std::move(impl));
}

const Info& Reader::info() const { return impl_->info; }
const std::string& Reader::name() const { return impl_->name; }
const std::vector<double>& Reader::last_times() const { return impl_->times; }

at::Tensor Reader::read_clip(const ClipRequest& request) {
  Impl& file = *impl_;
  if (request.frames < 1) throw Error("clip frames must be >= 1, got " + std::to_string(request.frames));
  if (request.stride < 1) throw Error("clip stride must be >= 1, got " + std::to_string(request.stride));
  if (!(request.fps >= 0)) throw Error("clip fps must be >= 0, got " + std::to_string(request.fps));
  if (!(request.start >= 0)) throw Error("clip start must be >= 0 s, got " + std::to_string(request.start));
  int flags = scaler_flags(request.scaler);
  // plain variables: a C++17 lambda cannot capture a structured binding (clang refuses it)
  auto [out_width, out_height] = file.output_size(request.width, request.height);
  int64_t width = out_width, height = out_height;

  auto clip = at::empty({request.frames, 3, height, width}, at::kByte);
  file.times.clear();
  auto emit = [&](const AVFrame* source, double time) {
    auto out = clip[static_cast<int64_t>(file.times.size())];
    file.convert(source, out, width, height, flags);
    file.times.push_back(time);
  };
  auto filled = [&] { return static_cast<int64_t>(file.times.size()); };

  double frame_time = file.info.fps > 0 ? 1 / file.info.fps : 0;
  file.seek(request.start);
  file.plan_clip(request);
  bool have_previous = false;
  double previous_time = 0;
  if (request.fps > 0) {
    // resample: for each target time start + k / fps, the frame nearest to it (ties: earlier)
    auto target = [&](int64_t k) { return request.start + k / request.fps; };
    while (filled() < request.frames && file.next_frame()) {
      double time = file.last_time;
      while (filled() < request.frames && target(filled()) <= time + kTimeTolerance) {
        double wanted = target(filled());
        if (have_previous && wanted - previous_time <= time - wanted)
          emit(file.previous.get(), previous_time);
        else
          emit(file.frame.get(), time);
      }
      av_frame_unref(file.previous.get());
      av_frame_move_ref(file.previous.get(), file.frame.get());
      previous_time = time;
      have_previous = true;
    }
    // after the last frame: it is the nearest until its display time is over
    while (have_previous && filled() < request.frames &&
           target(filled()) < previous_time + frame_time - kTimeTolerance)
      emit(file.previous.get(), previous_time);
  } else {
    // every stride-th frame from the first at or after start
    int64_t after_start = 0;
    while (filled() < request.frames && file.next_frame()) {
      double time = file.last_time;
      if (time < request.start - kTimeTolerance) {
        // kept in case the clip starts past the last frame and is padded from it
        av_frame_unref(file.previous.get());
        av_frame_move_ref(file.previous.get(), file.frame.get());
        previous_time = time;
        have_previous = true;
        continue;
      }
      bool kept = file.kept_pts.empty() ? after_start++ % request.stride == 0 : file.kept_pts.count(file.frame->pts) > 0;
      if (kept) emit(file.frame.get(), time);
      have_previous = false;
    }
  }

  // past the end: repeat the last frame, or report
  if (filled() < request.frames) {
    file.check_complete();
    std::string wanted = std::to_string(request.frames) + " frames from " +
                         std::to_string(request.start) + " s";
    if (!request.pad)
      file.fail("clip runs past the end: " + wanted + " but only " + std::to_string(filled()) +
                " (video: " + std::to_string(file.info.duration) + " s)");
    if (filled() == 0) {
      if (!have_previous) file.fail("no frame to decode for " + wanted);
      emit(file.previous.get(), previous_time);
    }
    int64_t have = filled();
    clip.slice(0, have).copy_(clip[have - 1].unsqueeze(0).expand({request.frames - have, 3, height, width}));
    file.times.resize(request.frames, file.times.back());
  }
  file.ahead.clear();  // the read-ahead beyond the clip: the next clip seeks anyway
  file.kept_pts.clear();
  file.restarting = false;
  return clip;
}

at::Tensor Reader::read_all(int64_t width, int64_t height, const std::string& scaler) {
  Impl& file = *impl_;
  int flags = scaler_flags(scaler);
  auto [out_width, out_height] = file.output_size(width, height);
  file.seek(0);
  // room for the container's count and one more (estimated counts run over by a frame), grown
  // geometrically when the estimate was short
  int64_t capacity = std::max<int64_t>(file.info.frame_count + 1, 16);
  auto frames = new_frames(capacity, out_height, out_width);
  file.times.clear();
  while (file.next_frame()) {
    int64_t index = static_cast<int64_t>(file.times.size());
    if (index == capacity) {
      capacity *= 2;
      auto bigger = new_frames(capacity, out_height, out_width);
      bigger.slice(0, 0, index).copy_(frames);
      frames = bigger;
    }
    auto out = frames[index];
    file.convert(file.frame.get(), out, out_width, out_height, flags);
    file.times.push_back(file.last_time);
  }
  if (file.times.empty()) file.fail("no video frame could be decoded");
  file.check_complete();
  // a short unused tail was never written, so it holds no memory: return a view rather than
  // copy the video; a long one (the estimate was far off) is cut off by a copy
  int64_t count = static_cast<int64_t>(file.times.size());
  if ((capacity - count) * 16 <= count) return frames.slice(0, 0, count);
  return frames.slice(0, 0, count).clone();
}

}  // namespace wm::video
