// The table-top scene shared by every task: world z-up in metres, robot base at the origin, a
// 1.4 x 0.8 m table centred at (0, 0.6) with its top at z = 0 and 0.12 m rims, a mocap-driven
// two-finger hand, six cameras. Physics options as Meta-World's basic scene (timestep 2.5 ms,
// Newton, 50 iterations, dense Jacobian, elliptic cones).
#include <string>

#include "task.h"

namespace wm::metaworld {

namespace {

// clang-format off
const char* const scene_head = R"(
<mujoco model="wm_tabletop">
  <compiler angle="radian" autolimits="true"/>
  <option timestep="0.0025" solver="Newton" iterations="50" tolerance="1e-10" jacobian="dense"
          cone="elliptic"/>
  <size njmax="1500" nconmax="400"/>
  <visual>
    <global offwidth="@W@" offheight="@H@"/>
    <quality shadowsize="0" offsamples="0"/>
    <headlight ambient="0.45 0.45 0.45" diffuse="0.5 0.5 0.5" specular="0.1 0.1 0.1"/>
  </visual>
  <default>
    <geom friction="1 0.005 0.0001" solref="0.01 1" density="500"/>
    <default class="finger">
      <geom friction="2 0.01 0.001" condim="4" rgba="0.25 0.25 0.28 1"/>
    </default>
    <default class="fixture">
      <geom rgba="0.55 0.45 0.35 1"/>
    </default>
  </default>
  <asset>
    <texture name="sky" type="skybox" builtin="gradient" rgb1="0.55 0.65 0.8" rgb2="0.1 0.1 0.15"
             width="64" height="64"/>
    <texture name="wood" type="2d" builtin="flat" rgb1="0.62 0.5 0.38" width="16" height="16"
             mark="random" markrgb="0.55 0.43 0.32" random="0.2"/>
    <texture name="floor" type="2d" builtin="checker" rgb1="0.3 0.3 0.32" rgb2="0.24 0.24 0.26"
             width="64" height="64"/>
    <material name="table" texture="wood" texrepeat="4 4"/>
    <material name="floor" texture="floor" texrepeat="8 8"/>
  </asset>
  <worldbody>
    <light pos="0.3 0.2 1.6" dir="-0.2 0.3 -1" diffuse="0.5 0.5 0.5" castshadow="false"/>
    <geom name="floor" type="plane" pos="0 0.6 -0.75" size="3 3 0.1" material="floor"/>
    <body name="table" pos="0 0.6 0">
      <geom name="table_top" type="box" pos="0 0 -0.025" size="0.7 0.4 0.025" material="table"/>
      <geom type="box" pos="0 -0.39 -0.4" size="0.68 0.01 0.35" material="table" contype="0" conaffinity="0"/>
      <geom name="rim_back" type="box" pos="0 0.395 0.06" size="0.7 0.005 0.06" material="table"/>
      <geom name="rim_front" type="box" pos="0 -0.395 0.06" size="0.7 0.005 0.06" material="table"/>
      <geom name="rim_left" type="box" pos="-0.695 0 0.06" size="0.005 0.39 0.06" material="table"/>
      <geom name="rim_right" type="box" pos="0.695 0 0.06" size="0.005 0.39 0.06" material="table"/>
    </body>
    <geom name="robot_base" type="cylinder" pos="0 0.05 -0.1" size="0.06 0.1" rgba="0.2 0.2 0.22 1"
          contype="0" conaffinity="0"/>

    <camera name="topview" pos="0 0.6 1.5" xyaxes="1 0 0 0 1 0" fovy="45"/>
    <camera name="corner" pos="-1.1 -0.4 0.6" mode="targetbody" target="table" fovy="28"/>
    <camera name="corner2" pos="1.3 -0.2 1.1" mode="targetbody" target="table" fovy="35"/>
    <camera name="corner3" pos="0.9 0.3 0.5" mode="targetbody" target="table" fovy="50"/>

    <body name="mocap" mocap="true" pos="0 0.6 0.2"/>
    <body name="hand" pos="0 0.6 0.2">
      <freejoint name="hand"/>
      <inertial pos="0 0 0.01" mass="1" diaginertia="0.004 0.004 0.004"/>
      <geom name="palm" type="box" pos="0 0 0.005" size="0.02 0.06 0.01" rgba="0.7 0.7 0.72 1"/>
      <geom name="wrist" type="cylinder" pos="0 0 0.06" size="0.025 0.045" rgba="0.8 0.2 0.2 1"
            contype="0" conaffinity="0"/>
      <camera name="behind_gripper" pos="0 -0.25 0.2" xyaxes="1 0 0 0 0.62 0.78" fovy="60"/>
      <camera name="gripper_pov" pos="0 0 -0.05" xyaxes="1 0 0 0 1 0" fovy="90"/>
      <body name="finger_right" pos="0 -0.045 -0.025">
        <joint name="finger_right" type="slide" axis="0 1 0" range="0 0.04" damping="60" armature="0.1"/>
        <geom name="finger_right" class="finger" type="box" size="0.01 0.005 0.02" mass="0.05"/>
        <site name="pad_right" pos="0 0.005 -0.005" size="0.003"/>
      </body>
      <body name="finger_left" pos="0 0.045 -0.025">
        <joint name="finger_left" type="slide" axis="0 -1 0" range="0 0.04" damping="60" armature="0.1"/>
        <geom name="finger_left" class="finger" type="box" size="0.01 0.005 0.02" mass="0.05"/>
        <site name="pad_left" pos="0 -0.005 -0.005" size="0.003"/>
      </body>
    </body>
    <body name="goal" mocap="true" pos="0 0.8 0.1">
      <site name="goal" size="0.02" rgba="0.2 0.9 0.2 0.5" group="5"/>
    </body>
)";

const char* const scene_tail = R"(
  </worldbody>
  <equality>
    <weld body1="mocap" body2="hand" solref="0.01 1"/>
  </equality>
  <actuator>
    <position name="finger_right" joint="finger_right" kp="200" ctrlrange="-1 1" forcerange="-20 20"/>
    <position name="finger_left" joint="finger_left" kp="200" ctrlrange="-1 1" forcerange="-20 20"/>
  </actuator>
</mujoco>
)";
// clang-format on

std::string replace_all(std::string text, const std::string& from, const std::string& to) {
  for (size_t at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size()))
    text.replace(at, from.size(), to);
  return text;
}

}  // namespace

std::string scene_xml(const Task& task, int offscreen_width, int offscreen_height) {
  std::string head = replace_all(scene_head, "@W@", std::to_string(offscreen_width));
  head = replace_all(head, "@H@", std::to_string(offscreen_height));
  return head + task.objects_xml + scene_tail;
}

}  // namespace wm::metaworld
