// The tasks of the metaworld env as data: scene fragment, randomisation ranges, goal, success
// test and the expert's strategy. Facts (ranges, thresholds, hand starts) follow Meta-World v2/v3
// (Yu et al. 2019, Farama-Foundation/Metaworld); the scenes are this project's own MJCF.
#pragma once
#include <array>
#include <string>
#include <vector>

namespace wm::metaworld {

using Vec3 = std::array<double, 3>;

struct Box3 {
  Vec3 low{}, high{};
  bool empty() const { return low == high; }
};

// where the goal comes from
enum class GoalFrom {
  Range,    // uniform in goal_range (reach, push, pick-place, sweep)
  Fixture,  // fixture position + goal_offset (peg hole, hoop, shelf, pocket)
  Joint,    // the handle's position when the object's joint is at joint_goal
};

// how the scripted expert solves the task (see expert.cpp)
enum class Strategy {
  Reach,      // move the fingertips to the goal
  Press,      // close the hand, align above the handle, push down
  Carry,      // grasp the handle, move it straight to the goal
  CarryHigh,  // grasp, lift to goal + carry_height, move over the goal, lower
  Insert,     // grasp, line up at goal + approach, slide in against it
  Turn,       // grasp a hinged handle and follow its arc to the goal angle
};

struct Task {
  const char* name;
  const char* doc;
  std::string objects_xml;  // a body "object" (free or jointed) and optionally a mocap "fixture"
  Vec3 hand_init;
  Box3 object_range;   // free objects: the object's position
  Box3 fixture_range;  // the fixture's position (empty: no fixture)
  GoalFrom goal_from = GoalFrom::Range;
  Box3 goal_range;     // GoalFrom::Range
  bool goal_at_object_height = false;  // push-like tasks keep the goal on the table
  Vec3 goal_offset{};  // GoalFrom::Fixture
  double joint_start = 0, joint_goal = 0;  // jointed objects (GoalFrom::Joint)
  double min_separation = 0;  // object and goal closer than this in xy are redrawn
  // success: |weights * (metric site - goal)| <= threshold, or |joint - joint_goal| for angles
  const char* metric_site = "handle";
  Vec3 metric_weights{1, 1, 1};
  bool metric_is_angle = false;
  double threshold = 0.05;
  // the expert
  Strategy strategy = Strategy::Carry;
  double carry_height = 0.1;  // CarryHigh
  Vec3 approach{};            // Insert: the side the object comes in from (object frame offset)
  Vec3 hinge_offset{};        // Turn: hinge position relative to the fixture
  Vec3 hinge_axis{0, 0, 1};   // Turn
  double overshoot = 0.0;     // aim this far past the goal (metres, or radians for Turn)
};

// MT10 first, then the ML10 additions
const std::vector<Task>& tasks();
std::vector<std::string> task_names();
const Task& find_task(const std::string& name);  // throws, listing the tasks

// the scene around a task: table, hand, cameras, goal marker, the task's objects
std::string scene_xml(const Task& task, int offscreen_width, int offscreen_height);

}  // namespace wm::metaworld
