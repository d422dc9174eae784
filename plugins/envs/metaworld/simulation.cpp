// Reset, step, observation and reward of one task (Meta-World v2 semantics, spec §1-§3).
#include "simulation.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <mutex>
#include <stdexcept>

#include "wm/error.h"

namespace wm::metaworld {

namespace {

double norm(const Vec3& v) { return std::sqrt(v[0] * v[0] + v[1] * v[1] + v[2] * v[2]); }
Vec3 sub(const Vec3& a, const Vec3& b) { return {a[0] - b[0], a[1] - b[1], a[2] - b[2]}; }

// Meta-World's reward kit: 1 inside [0, bound]; outside a long tail 1 / (1 + (3 d)^2) of the
// distance past the bound in units of margin, so that it is 0.1 one margin away
double tolerance(double x, double bound, double margin) {
  if (x <= bound) return 1.0;
  double d = (x - bound) / std::max(margin, 1e-9);
  return 1.0 / (1.0 + 9.0 * d * d);
}

Vec3 uniform(const Box3& box, std::mt19937_64& rng) {
  Vec3 v;
  for (int i = 0; i < 3; ++i)
    v[i] = std::uniform_real_distribution<double>(box.low[i], box.high[i])(rng);
  return v;
}

// MuJoCo's default error handler prints "Press Enter to exit" and ends the process; a run gets an
// exception it can report instead (set once, and only if the host has not set its own)
void report_mujoco_errors_as_exceptions() {
  static std::once_flag once;
  std::call_once(once, [] {
    if (!mju_user_error)
      mju_user_error = [](const char* message) { throw Error(std::string("metaworld: MuJoCo: ") + message); };
  });
}

// a model from MJCF text, through MuJoCo's virtual file system
mjModel* load_model(const std::string& xml, const std::string& task) {
  report_mujoco_errors_as_exceptions();
  mjVFS vfs;
  mj_defaultVFS(&vfs);
  const char* file = "scene.xml";
  if (mj_makeEmptyFileVFS(&vfs, file, static_cast<int>(xml.size())) != 0)
    throw Error("metaworld: MuJoCo's virtual file system is full");
  std::memcpy(vfs.filedata[mj_findFileVFS(&vfs, file)], xml.data(), xml.size());
  char error[1024] = "";
  mjModel* model = mj_loadXML(file, &vfs, error, sizeof error);
  mj_deleteVFS(&vfs);
  WM_CHECK(model) << "metaworld: the built-in scene of task '" << task << "' does not load: " << error;
  return model;
}

int need(const mjModel* model, mjtObj type, const char* name) {
  int id = mj_name2id(model, type, name);
  WM_CHECK(id >= 0) << "metaworld: the scene has no " << name;
  return id;
}

}  // namespace

Spawn parse_spawn(const std::string& name) {
  if (name == "task") return Spawn::Task;
  if (name == "drop") return Spawn::Drop;
  if (name == "strike") return Spawn::Strike;
  if (name == "push") return Spawn::Push;
  throw Error("metaworld: unknown spawn mode '" + name + "' (task, drop, strike, push)");
}

Simulation::Simulation(const Task& task, int offscreen_width, int offscreen_height) : task_(task) {
  model_ = load_model(scene_xml(task, offscreen_width, offscreen_height), task.name);
  data_ = mj_makeData(model_);
  hand_body_ = need(model_, mjOBJ_BODY, "hand");
  object_body_ = need(model_, mjOBJ_BODY, "object");
  hand_mocap_ = model_->body_mocapid[need(model_, mjOBJ_BODY, "mocap")];
  goal_mocap_ = model_->body_mocapid[need(model_, mjOBJ_BODY, "goal")];
  int fixture = mj_name2id(model_, mjOBJ_BODY, "fixture");
  if (fixture >= 0) fixture_mocap_ = model_->body_mocapid[fixture];
  handle_site_ = need(model_, mjOBJ_SITE, "handle");
  // "tcp" is the fingertip centre, not a site
  if (std::string(task.metric_site) != "tcp") metric_site_ = need(model_, mjOBJ_SITE, task.metric_site);
  pad_left_ = need(model_, mjOBJ_SITE, "pad_left");
  pad_right_ = need(model_, mjOBJ_SITE, "pad_right");
  int hand_joint = need(model_, mjOBJ_JOINT, "hand");
  hand_qpos_ = model_->jnt_qposadr[hand_joint];
  hand_dof_ = model_->jnt_dofadr[hand_joint];
  int object_joint = mj_name2id(model_, mjOBJ_JOINT, "object");
  WM_CHECK(object_joint >= 0) << "metaworld: the object of task '" << task.name << "' has no joint";
  object_qpos_ = model_->jnt_qposadr[object_joint];
  object_dof_ = model_->jnt_dofadr[object_joint];
  free_object_ = model_->jnt_type[object_joint] == mjJNT_FREE;
  hand_geoms_ = {need(model_, mjOBJ_GEOM, "palm"), need(model_, mjOBJ_GEOM, "finger_right"),
                 need(model_, mjOBJ_GEOM, "finger_left")};
}

Simulation::~Simulation() {
  mj_deleteData(data_);
  mj_deleteModel(model_);
}

Vec3 Simulation::site(int id) const {
  const double* p = data_->site_xpos + 3 * id;
  return {p[0], p[1], p[2]};
}

Vec3 Simulation::tcp() const {
  Vec3 left = site(pad_left_), right = site(pad_right_);
  return {(left[0] + right[0]) / 2, (left[1] + right[1]) / 2, (left[2] + right[2]) / 2};
}

Vec3 Simulation::metric_offset() const {
  if (metric_site_ < 0 || model_->site_bodyid[metric_site_] != model_->site_bodyid[handle_site_]) return {};
  const double* metric = model_->site_pos + 3 * metric_site_;
  const double* handle = model_->site_pos + 3 * handle_site_;
  return {metric[0] - handle[0], metric[1] - handle[1], metric[2] - handle[2]};
}

double Simulation::joint_value() const { return free_object_ ? 0.0 : data_->qpos[object_qpos_]; }

//---- reset ----

void Simulation::reset(uint64_t seed, Spawn spawn) {
  std::mt19937_64 rng(seed);
  mj_resetData(model_, data_);
  place_task(rng);
  place_hand(task_.hand_init, -1.0);
  settle(50, -1.0);
  if (spawn != Spawn::Task) spawn_for_babbling(spawn, rng);
  mj_forward(model_, data_);
  initial_metric_ = success_metric();
  initial_reach_ = norm(sub(tcp(), site(handle_site_)));
  initial_tcp_to_goal_ = norm(sub(tcp(), goal_));
  observation_ = measure();
  std::copy(observation_.begin(), observation_.begin() + 18, observation_.begin() + 18);
  last_ = evaluate();
}

// object, fixture and goal from the task's ranges; pairs closer than min_separation are redrawn
void Simulation::place_task(std::mt19937_64& rng) {
  Vec3 object{}, fixture{};
  for (int attempt = 0; attempt < 100; ++attempt) {
    if (free_object_) object = uniform(task_.object_range, rng);
    if (fixture_mocap_ >= 0) fixture = uniform(task_.fixture_range, rng);
    if (task_.goal_from == GoalFrom::Range) goal_ = uniform(task_.goal_range, rng);
    if (task_.goal_from == GoalFrom::Fixture)
      goal_ = {fixture[0] + task_.goal_offset[0], fixture[1] + task_.goal_offset[1],
               fixture[2] + task_.goal_offset[2]};
    if (task_.goal_at_object_height) goal_[2] = object[2];
    double xy = std::hypot(object[0] - goal_[0], object[1] - goal_[1]);
    if (task_.min_separation <= 0 || xy >= task_.min_separation) break;
  }
  if (fixture_mocap_ >= 0) std::copy(fixture.begin(), fixture.end(), data_->mocap_pos + 3 * fixture_mocap_);
  if (free_object_) {
    double* q = data_->qpos + object_qpos_;
    std::copy(object.begin(), object.end(), q);
    q[3] = 1, q[4] = q[5] = q[6] = 0;
  } else {
    data_->qpos[object_qpos_] = task_.joint_goal;
    mj_kinematics(model_, data_);
    // the goal is where the handle is with the joint at its goal value
    if (task_.goal_from == GoalFrom::Joint) goal_ = site(metric_site_);
    data_->qpos[object_qpos_] = task_.joint_start;
  }
  std::copy(goal_.begin(), goal_.end(), data_->mocap_pos + 3 * goal_mocap_);
}

void Simulation::place_hand(const Vec3& position, double grip) {
  std::copy(position.begin(), position.end(), data_->mocap_pos + 3 * hand_mocap_);
  double* q = data_->qpos + hand_qpos_;
  std::copy(position.begin(), position.end(), q);
  q[3] = 1, q[4] = q[5] = q[6] = 0;
  std::fill(data_->qvel + hand_dof_, data_->qvel + hand_dof_ + 6, 0.0);
  data_->ctrl[0] = data_->ctrl[1] = grip;
}

// let the hand and fingers come to rest; a pinned object stays where it is (held while the
// fingers close on it)
void Simulation::settle(int substeps, double grip, bool pin_object) {
  data_->ctrl[0] = data_->ctrl[1] = grip;
  std::array<double, 7> pinned{};
  if (pin_object && free_object_) std::copy(data_->qpos + object_qpos_, data_->qpos + object_qpos_ + 7, pinned.begin());
  for (int i = 0; i < substeps; ++i) {
    mj_step(model_, data_);
    if (pin_object && free_object_) {
      std::copy(pinned.begin(), pinned.end(), data_->qpos + object_qpos_);
      std::fill(data_->qvel + object_dof_, data_->qvel + object_dof_ + 6, 0.0);
    }
  }
}

//---- step ----

StepInfo Simulation::step(const Action& action) {
  save_stable();
  double* mocap = data_->mocap_pos + 3 * hand_mocap_;
  for (int axis = 0; axis < 3; ++axis) {
    double move = std::clamp(action[axis], -1.0, 1.0) * kActionScale;
    mocap[axis] = std::clamp(mocap[axis] + move, kHandLow[axis], kHandHigh[axis]);
  }
  data_->ctrl[0] = data_->ctrl[1] = std::clamp(action[3], -1.0, 1.0);
  int warnings_before = data_->warning[mjWARN_BADQACC].number;
  for (int i = 0; i < kFrameSkip; ++i) {
    apply_buoyancy();
    mj_step(model_, data_);
  }

  // numerical blow-up: keep the last stable state, pay nothing (Meta-World does the same)
  bool finite = true;
  for (int i = 0; i < model_->nq && finite; ++i) finite = std::isfinite(data_->qpos[i]);
  if (!finite || data_->warning[mjWARN_BADQACC].number > warnings_before) {
    restore_stable();
    StepInfo info;
    info.unstable = true;
    last_ = info;
    return info;
  }
  Observation previous = observation_;
  observation_ = measure();
  std::copy(previous.begin(), previous.begin() + 18, observation_.begin() + 18);
  last_ = evaluate();
  return last_;
}

// upward at the object's centre of mass; xfrc_applied is kept by mj_step, so it is written before
// every substep to stay right after reset() (which clears it) and after a restored blow-up
void Simulation::apply_buoyancy() {
  if (!free_object_) return;
  double weight = model_->body_subtreemass[object_body_] * -model_->opt.gravity[2];
  data_->xfrc_applied[6 * object_body_ + 2] = buoyancy_ * weight;
}

// the state a step starts from: positions, velocities, targets, controls and the solver's warm start
void Simulation::save_stable() {
  stable_.clear();
  auto keep = [&](const double* values, int count) { stable_.insert(stable_.end(), values, values + count); };
  keep(&data_->time, 1);
  keep(data_->qpos, model_->nq);
  keep(data_->qvel, model_->nv);
  keep(data_->qacc_warmstart, model_->nv);
  keep(data_->mocap_pos, 3 * model_->nmocap);
  keep(data_->mocap_quat, 4 * model_->nmocap);
  keep(data_->ctrl, model_->nu);
}

void Simulation::restore_stable() {
  const double* from = stable_.data();
  auto take = [&](double* values, int count) {
    std::copy(from, from + count, values);
    from += count;
  };
  take(&data_->time, 1);
  take(data_->qpos, model_->nq);
  take(data_->qvel, model_->nv);
  take(data_->qacc_warmstart, model_->nv);
  take(data_->mocap_pos, 3 * model_->nmocap);
  take(data_->mocap_quat, 4 * model_->nmocap);
  take(data_->ctrl, model_->nu);
  mj_forward(model_, data_);
}

//---- observation, success, reward ----

Observation Simulation::measure() const {
  Observation obs{};
  const double* hand = data_->xpos + 3 * hand_body_;
  std::copy(hand, hand + 3, obs.begin());
  obs[3] = std::clamp(norm(sub(site(pad_left_), site(pad_right_))) / 0.1, 0.0, 1.0);
  Vec3 handle = site(handle_site_);
  std::copy(handle.begin(), handle.end(), obs.begin() + 4);
  const double* quat = data_->xquat + 4 * object_body_;  // MuJoCo order w, x, y, z
  std::copy(quat, quat + 4, obs.begin() + 7);
  if (fixture_mocap_ >= 0) {
    const double* fixture = data_->mocap_pos + 3 * fixture_mocap_;
    std::copy(fixture, fixture + 3, obs.begin() + 11);
    const double* fixture_quat = data_->mocap_quat + 4 * fixture_mocap_;
    std::copy(fixture_quat, fixture_quat + 4, obs.begin() + 14);
  }
  std::copy(goal_.begin(), goal_.end(), obs.begin() + 36);
  return obs;
}

double Simulation::success_metric() const {
  if (task_.metric_is_angle) return std::abs(joint_value() - task_.joint_goal);
  Vec3 error = sub(metric_site_ >= 0 ? site(metric_site_) : tcp(), goal_);
  for (int i = 0; i < 3; ++i) error[i] *= task_.metric_weights[i];
  return norm(error);
}

// a hand geom against the object's body or its children; with both_fingers, a grasp
bool Simulation::touching(bool both_fingers) const {
  bool right = false, left = false, any = false;
  for (int i = 0; i < data_->ncon; ++i) {
    const mjContact& contact = data_->contact[i];
    for (int side = 0; side < 2; ++side) {
      int mine = side ? contact.geom2 : contact.geom1, other = side ? contact.geom1 : contact.geom2;
      int body = model_->geom_bodyid[other];
      bool on_object = body == object_body_ || model_->body_parentid[body] == object_body_;
      if (!on_object) continue;
      if (mine == hand_geoms_[0]) any = true;
      if (mine == hand_geoms_[1]) right = any = true;
      if (mine == hand_geoms_[2]) left = any = true;
    }
  }
  return both_fingers ? (right && left) : any;
}

StepInfo Simulation::evaluate() const {
  StepInfo info;
  info.metric = success_metric();
  info.success = info.metric <= task_.threshold;
  info.grasped = touching(true);
  info.contact = info.grasped || touching(false);
  double reach = norm(sub(tcp(), site(handle_site_)));
  info.near_object = tolerance(reach, 0.02, std::max(initial_reach_, 0.05));
  info.in_place = tolerance(info.metric, task_.threshold,
                            std::max(initial_metric_ - task_.threshold, task_.threshold));
  if (task_.strategy == Strategy::Reach) {
    info.reward = 10 * tolerance(norm(sub(tcp(), goal_)), 0.05, std::max(initial_tcp_to_goal_, 0.05));
  } else if (info.success) {
    info.reward = 10;
  } else {
    // reach, then hold (a grasp, or any touch for pressing), then move the object to the goal
    bool engaged = task_.strategy == Strategy::Press ? info.contact : info.grasped;
    info.reward = 2 * info.near_object + (engaged ? 3.0 : 0.0) + 5 * info.in_place;
  }
  return info;
}

}  // namespace wm::metaworld
