// One task's MuJoCo world without LibTorch: reset by seed, step a clipped 4-D action, the 39-D
// observation, shaped reward, success and contacts. The env plugin, the expert, babbling and the
// bench are built on it.
#pragma once
#include <mujoco/mujoco.h>

#include <array>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "task.h"

namespace wm::metaworld {

constexpr int kFrameSkip = 5;            // 5 x 2.5 ms = 12.5 ms per step (80 Hz)
constexpr int kObservationSize = 39;
constexpr double kActionScale = 0.01;    // metres of mocap motion per unit action per step
constexpr double kTcpBelowHand = 0.03;   // the fingertip centre sits this far below the hand body
const Vec3 kHandLow{-0.5, 0.40, 0.05}, kHandHigh{0.5, 1.0, 0.5};

using Action = std::array<double, 4>;
using Observation = std::array<double, kObservationSize>;

// how reset() places the hand: as the task says, or for babbling near the object
enum class Spawn { Task, Drop, Strike, Push };
Spawn parse_spawn(const std::string& name);  // "task", "drop", "strike", "push"

struct StepInfo {
  double reward = 0, metric = 0, near_object = 0, in_place = 0;
  bool success = false, grasped = false, contact = false, unstable = false;
};

class Simulation {
 public:
  Simulation(const Task& task, int offscreen_width = 64, int offscreen_height = 64);
  ~Simulation();
  Simulation(const Simulation&) = delete;
  Simulation& operator=(const Simulation&) = delete;

  void reset(uint64_t seed, Spawn spawn = Spawn::Task);
  // `action` must be finite; it is clipped to [-1, 1] here
  StepInfo step(const Action& action);

  const Task& task() const { return task_; }
  // an upward force buoyancy * mass * g on a free object in every physics substep of step()
  // (0: none; 1: it floats; 2: it rises with net acceleration g); reset()'s settling is without it
  void set_buoyancy(double buoyancy) { buoyancy_ = buoyancy; }
  const Observation& observation() const { return observation_; }  // goal always visible
  const StepInfo& last() const { return last_; }
  const mjModel* model() const { return model_; }
  const mjData* data() const { return data_; }
  Vec3 site(int id) const;
  Vec3 tcp() const;
  double joint_value() const;  // the object's hinge or slide (0 for free objects)
  bool free_object() const { return free_object_; }  // false: a handle on a hinge or slide
  // what the reward reads besides the observation: the goal and the margins fixed at reset
  const Vec3& goal() const { return goal_; }
  double initial_metric() const { return initial_metric_; }
  double initial_reach() const { return initial_reach_; }
  double initial_tcp_to_goal() const { return initial_tcp_to_goal_; }
  // the metric site relative to the handle in the object's frame (peg: its head); zeros otherwise
  Vec3 metric_offset() const;

 private:
  void place_task(std::mt19937_64& rng);
  void place_hand(const Vec3& position, double grip);
  void spawn_for_babbling(Spawn spawn, std::mt19937_64& rng);
  void save_stable();
  void restore_stable();
  void settle(int substeps, double grip, bool pin_object = false);
  Observation measure() const;  // the current 18 + the previous 18 + goal
  StepInfo evaluate() const;
  double success_metric() const;
  bool touching(bool both_fingers) const;
  void apply_buoyancy();

  const Task& task_;
  mjModel* model_ = nullptr;
  mjData* data_ = nullptr;
  std::vector<double> stable_;  // the state before a step, restored if the physics blows up
  int hand_body_, object_body_, fixture_mocap_ = -1, hand_mocap_, goal_mocap_;
  int handle_site_, metric_site_ = -1, pad_left_, pad_right_;
  int object_qpos_ = -1, object_dof_ = -1, hand_qpos_, hand_dof_;
  bool free_object_;
  std::array<int, 3> hand_geoms_{};  // palm, right finger, left finger
  Vec3 goal_{};
  double initial_metric_ = 1, initial_reach_ = 1, initial_tcp_to_goal_ = 1;
  Observation observation_{};
  StepInfo last_;
  double buoyancy_ = 0;
};

}  // namespace wm::metaworld
