// The task table. Ranges, thresholds and hand starts follow Meta-World v2 (see the spec table in
// README.md); geometry is this project's own. Every scene names its moving body "object" with
// a site "handle" (the grasp point, observation slot 1); articulated objects hang from a mocap
// body "fixture" (slot 2) that reset() places.
#include <cmath>
#include <sstream>

#include "task.h"
#include "wm/error.h"
#include "wm/error.h"

namespace wm::metaworld {

namespace {

// clang-format off
// a free puck (radius 2 cm, 4 cm tall) resting on the table. It collides as an inscribed box:
// MuJoCo 2.2's cylinder-box contacts let a puck falling flat sink through the table and bounce.
const char* const puck = R"(
    <body name="object" pos="0 0.6 0.02">
      <freejoint name="object"/>
      <geom name="object" type="box" size="0.018 0.018 0.02" mass="0.05" rgba="0.85 0.2 0.15 1" condim="4" group="3"/>
      <geom type="cylinder" size="0.02 0.02" rgba="0.85 0.2 0.15 1" contype="0" conaffinity="0" mass="0"/>
      <site name="handle" size="0.004"/>
    </body>)";

const char* const block = R"(
    <body name="object" pos="0 0.6 0.02">
      <freejoint name="object"/>
      <geom name="object" type="box" size="0.02 0.02 0.02" mass="0.05" rgba="0.2 0.45 0.85 1" condim="4"/>
      <site name="handle" size="0.004"/>
    </body>)";

const char* const ball = R"(
    <body name="object" pos="0 0.6 0.025">
      <freejoint name="object"/>
      <geom name="object" type="sphere" size="0.025" mass="0.04" rgba="0.95 0.5 0.1 1" condim="4"/>
      <site name="handle" size="0.004"/>
    </body>)";

// a 16 cm peg along x, grasped at its centre; "head" is the end that goes in first
const char* const peg = R"(
    <body name="object" pos="0.1 0.6 0.015">
      <freejoint name="object"/>
      <geom name="object" type="box" size="0.08 0.015 0.015" mass="0.06" rgba="0.3 0.7 0.3 1" condim="4"/>
      <site name="handle" size="0.004"/>
      <site name="head" pos="-0.08 0 0" size="0.004"/>
    </body>)";

// a wall with a 6 x 6 cm square hole at height 0.13, facing +x
const char* const peg_hole = R"(
    <body name="fixture" mocap="true" pos="-0.3 0.6 0">
      <geom class="fixture" type="box" pos="0 0 0.05" size="0.03 0.1 0.05"/>
      <geom class="fixture" type="box" pos="0 0 0.205" size="0.03 0.1 0.045"/>
      <geom class="fixture" type="box" pos="0 -0.065 0.13" size="0.03 0.035 0.03"/>
      <geom class="fixture" type="box" pos="0 0.065 0.13" size="0.03 0.035 0.03"/>
    </body>)";

// a basketball hoop: pole, backboard, a ring of radius 7.5 cm at height 0.3
std::string hoop() {
  std::ostringstream xml;
  xml << R"(
    <body name="fixture" mocap="true" pos="0 0.88 0">
      <geom class="fixture" type="capsule" fromto="0 0.12 0 0 0.12 0.44" size="0.015"/>
      <geom class="fixture" type="box" pos="0 0.105 0.36" size="0.12 0.005 0.08" rgba="0.9 0.9 0.9 1"/>
      <geom class="fixture" type="capsule" fromto="0 0.075 0.3 0 0.1 0.3" size="0.006" rgba="0.9 0.3 0.1 1"/>)";
  const int segments = 12;
  for (int i = 0; i < segments; ++i) {
    double a0 = 2 * M_PI * i / segments, a1 = 2 * M_PI * (i + 1) / segments;
    xml << "\n      <geom class=\"fixture\" type=\"capsule\" size=\"0.006\" rgba=\"0.9 0.3 0.1 1\" fromto=\""
        << 0.075 * std::cos(a0) << " " << 0.075 * std::sin(a0) << " 0.3 " << 0.075 * std::cos(a1)
        << " " << 0.075 * std::sin(a1) << " 0.3\"/>";
  }
  xml << "\n    </body>";
  return xml.str();
}

// a board 15 cm above the table with a back wall
const char* const shelf = R"(
    <body name="fixture" mocap="true" pos="0 0.85 0">
      <geom class="fixture" type="box" pos="0 0 0.14" size="0.1 0.08 0.01"/>
      <geom class="fixture" type="box" pos="0 0.085 0.15" size="0.1 0.005 0.15"/>
      <geom class="fixture" type="box" pos="-0.095 0 0.065" size="0.005 0.08 0.065"/>
      <geom class="fixture" type="box" pos="0.095 0 0.065" size="0.005 0.08 0.065"/>
    </body>)";

// a low U-shaped fence open towards the robot
const char* const pocket = R"(
    <body name="fixture" mocap="true" pos="0 0.85 0">
      <geom class="fixture" type="box" pos="0 0.05 0.01" size="0.055 0.005 0.01"/>
      <geom class="fixture" type="box" pos="-0.05 0 0.01" size="0.005 0.05 0.01"/>
      <geom class="fixture" type="box" pos="0.05 0 0.01" size="0.005 0.05 0.01"/>
    </body>)";

// a drawer in a case; the drawer slides out towards the robot (-y) by up to 16 cm
const char* const drawer = R"(
    <body name="fixture" mocap="true" pos="0 0.9 0">
      <geom class="fixture" type="box" pos="0 0 0.005" size="0.1 0.1 0.005"/>
      <geom class="fixture" type="box" pos="0 0 0.135" size="0.1 0.1 0.005"/>
      <geom class="fixture" type="box" pos="-0.095 0 0.07" size="0.005 0.1 0.065"/>
      <geom class="fixture" type="box" pos="0.095 0 0.07" size="0.005 0.1 0.065"/>
      <geom class="fixture" type="box" pos="0 0.095 0.07" size="0.09 0.005 0.065"/>
      <body name="object">
        <joint name="object" type="slide" axis="0 -1 0" range="0 0.16" damping="2" frictionloss="0.05"/>
        <geom type="box" pos="0 -0.1 0.07" size="0.088 0.005 0.058" mass="0.1" rgba="0.75 0.65 0.5 1"/>
        <geom type="box" pos="0 0 0.017" size="0.085 0.09 0.005" mass="0.1" rgba="0.75 0.65 0.5 1"/>
        <geom type="box" pos="-0.083 0 0.05" size="0.003 0.09 0.03" mass="0.03" rgba="0.75 0.65 0.5 1"/>
        <geom type="box" pos="0.083 0 0.05" size="0.003 0.09 0.03" mass="0.03" rgba="0.75 0.65 0.5 1"/>
        <geom type="capsule" fromto="-0.05 -0.175 0.07 0.05 -0.175 0.07" size="0.01" mass="0.02" rgba="0.2 0.2 0.2 1"/>
        <geom type="capsule" fromto="-0.05 -0.175 0.07 -0.05 -0.105 0.07" size="0.008" mass="0.01" rgba="0.2 0.2 0.2 1"/>
        <geom type="capsule" fromto="0.05 -0.175 0.07 0.05 -0.105 0.07" size="0.008" mass="0.01" rgba="0.2 0.2 0.2 1"/>
        <site name="handle" pos="0 -0.175 0.07" size="0.004"/>
      </body>
    </body>)";

// a door hinged about z at the fixture; it swings open towards the robot. The pull is a
// vertical post held by one C-shaped strut at its foot, so fingers can close around it from above.
const char* const door = R"(
    <body name="fixture" mocap="true" pos="0.05 0.9 0">
      <geom class="fixture" type="cylinder" pos="0.02 0 0.1" size="0.012 0.1"/>
      <geom class="fixture" type="box" pos="0.02 0.06 0.1" size="0.012 0.05 0.1"/>
      <body name="object">
        <joint name="object" type="hinge" axis="0 0 1" range="0 1.8" damping="0.5" frictionloss="0.02"/>
        <geom type="box" pos="-0.105 0 0.1" size="0.1 0.01 0.09" mass="0.3" rgba="0.6 0.35 0.2 1"/>
        <geom type="capsule" fromto="-0.17 -0.07 0.05 -0.17 -0.07 0.17" size="0.01" mass="0.01" rgba="0.2 0.2 0.2 1"/>
        <geom type="capsule" fromto="-0.17 -0.07 0.05 -0.12 -0.07 0.05" size="0.008" mass="0.01" rgba="0.2 0.2 0.2 1"/>
        <geom type="capsule" fromto="-0.12 -0.07 0.05 -0.12 -0.01 0.05" size="0.008" mass="0.01" rgba="0.2 0.2 0.2 1"/>
        <site name="handle" pos="-0.17 -0.07 0.12" size="0.004"/>
      </body>
    </body>)";

// a window pane sliding along +x by up to 20 cm in a frame, with a pull like the door's
const char* const window = R"(
    <body name="fixture" mocap="true" pos="0 0.8 0">
      <geom class="fixture" type="box" pos="0.1 0.0 0.03" size="0.23 0.02 0.03"/>
      <geom class="fixture" type="box" pos="0.1 0.0 0.3" size="0.23 0.02 0.01"/>
      <geom class="fixture" type="box" pos="-0.12 0.0 0.165" size="0.01 0.02 0.125"/>
      <geom class="fixture" type="box" pos="0.32 0.0 0.165" size="0.01 0.02 0.125"/>
      <body name="object">
        <joint name="object" type="slide" axis="1 0 0" range="0 0.2" damping="2" frictionloss="0.05"/>
        <geom type="box" pos="0 0 0.175" size="0.1 0.008 0.11" mass="0.2" rgba="0.6 0.8 0.9 0.6"/>
        <geom type="capsule" fromto="-0.05 -0.07 0.08 -0.05 -0.07 0.2" size="0.01" mass="0.01" rgba="0.2 0.2 0.2 1"/>
        <geom type="capsule" fromto="-0.05 -0.07 0.08 0 -0.07 0.08" size="0.008" mass="0.01" rgba="0.2 0.2 0.2 1"/>
        <geom type="capsule" fromto="0 -0.07 0.08 0 -0.008 0.08" size="0.008" mass="0.01" rgba="0.2 0.2 0.2 1"/>
        <site name="handle" pos="-0.05 -0.07 0.14" size="0.004"/>
      </body>
    </body>)";

// a box with a spring-loaded button on top (4 cm above the box, 3 cm of travel)
const char* const button = R"(
    <body name="fixture" mocap="true" pos="0 0.85 0">
      <geom class="fixture" type="box" pos="0 0 0.05" size="0.06 0.06 0.05" rgba="0.8 0.75 0.2 1"/>
      <body name="object" pos="0 0 0.1">
        <joint name="object" type="slide" axis="0 0 1" range="-0.03 0" stiffness="40" damping="1"/>
        <geom type="cylinder" pos="0 0 0.02" size="0.022 0.02" mass="0.02" rgba="0.85 0.15 0.1 1"/>
        <site name="handle" pos="0 0 0.04" size="0.004"/>
      </body>
    </body>)";

// a lever hinged about x on a pillar, pointing at the robot; pulled up to vertical
const char* const lever = R"(
    <body name="fixture" mocap="true" pos="0 0.75 0">
      <geom class="fixture" type="box" pos="0 0 0.085" size="0.03 0.03 0.085"/>
      <body name="object" pos="0 -0.04 0.17">
        <joint name="object" type="hinge" axis="-1 0 0" range="0 1.9" damping="0.2"/>
        <geom type="capsule" fromto="0 0 0 0 -0.15 0" size="0.01" mass="0.05" rgba="0.3 0.3 0.35 1"/>
        <geom type="capsule" fromto="-0.07 -0.15 0 0.07 -0.15 0" size="0.012" mass="0.02" rgba="0.85 0.2 0.15 1"/>
        <site name="handle" pos="0.04 -0.15 0" size="0.004"/>
      </body>
    </body>)";
// clang-format on

const Box3 puck_range{{-0.1, 0.6, 0.02}, {0.1, 0.7, 0.02}};

std::vector<Task> make_tasks() {
  std::vector<Task> all;
  Task t;

  //---- MT10 ----
  t = Task{"reach", "move the fingertips to a goal in the air", puck, {0, 0.6, 0.2}};
  t.object_range = puck_range;
  t.goal_range = {{-0.1, 0.8, 0.05}, {0.1, 0.9, 0.3}};
  t.min_separation = 0.15;
  t.metric_site = "tcp";
  t.threshold = 0.05;
  t.strategy = Strategy::Reach;
  all.push_back(t);

  t = Task{"push", "push the puck to a goal on the table", puck, {0, 0.6, 0.2}};
  t.object_range = puck_range;
  t.goal_range = {{-0.1, 0.8, 0.02}, {0.1, 0.9, 0.02}};
  t.goal_at_object_height = true;
  t.min_separation = 0.15;
  t.threshold = 0.05;
  all.push_back(t);

  t = Task{"pick-place", "pick the puck up and hold it at a goal in the air", puck, {0, 0.6, 0.2}};
  t.object_range = puck_range;
  t.goal_range = {{-0.1, 0.8, 0.05}, {0.1, 0.9, 0.3}};
  t.min_separation = 0.15;
  t.threshold = 0.07;
  all.push_back(t);

  t = Task{"door-open", "pull the door open by its handle", door, {0, 0.6, 0.2}};
  t.fixture_range = {{0.0, 0.85, 0}, {0.1, 0.95, 0}};
  t.goal_from = GoalFrom::Joint;
  t.joint_start = 0, t.joint_goal = M_PI / 2;
  t.metric_weights = {1, 0, 0};
  t.threshold = 0.08;
  t.strategy = Strategy::Turn;
  t.overshoot = 0.3;
  all.push_back(t);

  t = Task{"drawer-open", "pull the drawer fully open", drawer, {0, 0.6, 0.2}};
  t.fixture_range = {{-0.1, 0.9, 0}, {0.1, 0.9, 0}};
  t.goal_from = GoalFrom::Joint;
  t.joint_start = 0, t.joint_goal = 0.16;
  t.threshold = 0.03;
  t.overshoot = 0.03;
  all.push_back(t);

  t = Task{"drawer-close", "push the open drawer shut", drawer, {0, 0.6, 0.2}};
  t.fixture_range = {{-0.1, 0.9, 0}, {0.1, 0.9, 0}};
  t.goal_from = GoalFrom::Joint;
  t.joint_start = 0.15, t.joint_goal = 0;
  t.threshold = 0.015;
  t.overshoot = 0.03;
  all.push_back(t);

  t = Task{"button-press-topdown", "press the button on the box from above", button, {0, 0.4, 0.2}};
  t.fixture_range = {{-0.1, 0.8, 0}, {0.1, 0.9, 0}};
  t.goal_from = GoalFrom::Fixture;
  t.goal_offset = {0, 0, 0.1};
  t.metric_weights = {0, 0, 1};
  t.threshold = 0.02;
  t.strategy = Strategy::Press;
  t.overshoot = 0.02;
  all.push_back(t);

  t = Task{"peg-insert-side", "insert the peg sideways into the hole in the wall", std::string(peg) + peg_hole,
           {0, 0.6, 0.2}};
  t.object_range = {{0.0, 0.5, 0.015}, {0.2, 0.7, 0.015}};
  t.fixture_range = {{-0.35, 0.4, 0}, {-0.25, 0.7, 0}};
  t.goal_from = GoalFrom::Fixture;
  t.goal_offset = {0.03, 0, 0.13};
  t.min_separation = 0.1;
  t.metric_site = "head";
  t.metric_weights = {1, 2, 2};
  t.threshold = 0.07;
  t.strategy = Strategy::Insert;
  t.approach = {0.1, 0, 0};
  t.overshoot = 0.04;
  all.push_back(t);

  t = Task{"window-open", "slide the window open to the right", window, {0, 0.4, 0.2}};
  t.fixture_range = {{-0.1, 0.7, 0}, {0.1, 0.9, 0}};
  t.goal_from = GoalFrom::Joint;
  t.joint_start = 0, t.joint_goal = 0.2;
  t.metric_weights = {1, 0, 0};
  t.threshold = 0.05;
  t.overshoot = 0.02;
  all.push_back(t);

  t = Task{"window-close", "slide the open window shut to the left", window, {0, 0.4, 0.2}};
  t.fixture_range = {{-0.1, 0.7, 0}, {0.1, 0.9, 0}};
  t.goal_from = GoalFrom::Joint;
  t.joint_start = 0.2, t.joint_goal = 0;
  t.metric_weights = {1, 0, 0};
  t.threshold = 0.05;
  t.overshoot = 0.02;
  all.push_back(t);

  //---- ML10 additions ----
  t = Task{"sweep", "slide the block sideways along the table to a goal", block, {0, 0.6, 0.2}};
  t.object_range = puck_range;
  t.goal_range = {{0.25, 0.6, 0.02}, {0.35, 0.7, 0.02}};
  t.goal_at_object_height = true;
  t.threshold = 0.05;
  all.push_back(t);

  t = Task{"basketball", "dunk the ball into the hoop", std::string(ball) + hoop(), {0, 0.6, 0.2}};
  t.object_range = {{-0.1, 0.6, 0.025}, {0.1, 0.7, 0.025}};
  t.fixture_range = {{-0.1, 0.85, 0}, {0.1, 0.9, 0}};
  t.goal_from = GoalFrom::Fixture;
  t.goal_offset = {0, 0, 0.3};
  t.min_separation = 0.15;
  t.metric_weights = {1, 1, 2};
  t.threshold = 0.08;
  t.strategy = Strategy::CarryHigh;
  t.carry_height = 0.1;
  all.push_back(t);

  t = Task{"door-close", "push the open door shut", door, {0, 0.6, 0.2}};
  t.fixture_range = {{0.0, 0.85, 0}, {0.1, 0.95, 0}};
  t.goal_from = GoalFrom::Joint;
  t.joint_start = M_PI / 2, t.joint_goal = 0;
  t.threshold = 0.08;
  t.strategy = Strategy::Turn;
  t.overshoot = 0.3;
  all.push_back(t);

  t = Task{"shelf-place", "put the block on the shelf", std::string(block) + shelf, {0, 0.6, 0.2}};
  t.object_range = {{-0.1, 0.5, 0.02}, {0.1, 0.6, 0.02}};
  t.fixture_range = {{-0.1, 0.8, 0}, {0.1, 0.9, 0}};
  t.goal_from = GoalFrom::Fixture;
  t.goal_offset = {0, 0, 0.17};
  t.threshold = 0.07;
  t.strategy = Strategy::CarryHigh;
  t.carry_height = 0.08;
  all.push_back(t);

  t = Task{"sweep-into", "slide the block into the fenced pocket", std::string(block) + pocket, {0, 0.6, 0.2}};
  t.object_range = {{-0.1, 0.55, 0.02}, {0.1, 0.65, 0.02}};
  t.fixture_range = {{-0.1, 0.8, 0}, {0.1, 0.9, 0}};
  t.goal_from = GoalFrom::Fixture;
  t.goal_offset = {0, 0, 0.02};
  t.threshold = 0.05;
  t.strategy = Strategy::Insert;
  t.approach = {0, -0.1, 0};
  all.push_back(t);

  t = Task{"lever-pull", "pull the lever up to vertical", lever, {0, 0.4, 0.2}};
  t.fixture_range = {{-0.1, 0.7, 0}, {0.1, 0.8, 0}};
  t.goal_from = GoalFrom::Joint;
  t.joint_start = 0, t.joint_goal = M_PI / 2;
  t.metric_is_angle = true;
  t.threshold = M_PI / 24;
  t.strategy = Strategy::Turn;
  t.hinge_offset = {0, -0.04, 0.17};
  t.hinge_axis = {-1, 0, 0};
  t.overshoot = 0.15;
  all.push_back(t);
  return all;
}

}  // namespace

const std::vector<Task>& tasks() {
  static const std::vector<Task> all = make_tasks();
  return all;
}

std::vector<std::string> task_names() {
  std::vector<std::string> names;
  for (const auto& task : tasks()) names.push_back(task.name);
  return names;
}

const Task& find_task(const std::string& name) {
  for (const auto& task : tasks())
    if (name == task.name) return task;
  std::string list;
  for (const auto& known : task_names()) list += (list.empty() ? "" : ", ") + known;
  throw Error("metaworld: unknown task '" + name + "'; the tasks are: " + list);
}

}  // namespace wm::metaworld
