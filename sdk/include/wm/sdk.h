// wmhost SDK: the plugin contract. Include this, implement one interface, add WM_PLUGIN.
// Research code a plugin may also use lives in the toolbox libraries (wm/nn, wm/io, wm/video,
// wm/sim), each linked on its own; see docs/architecture.md.
#pragma once

#include "wm/abi.h"        // the C handshake and version numbers
#include "wm/error.h"      // wm::Error, wm::ConfigError, WM_CHECK, did-you-mean
#include "wm/log.h"        // wm::log()
#include "wm/schema.h"     // declared parameters
#include "wm/params.h"     // validated parameter values
#include "wm/sample.h"     // named tensors: Sample, Batch, collate, KeySpec
#include "wm/component.h"  // the plugin kinds
#include "wm/dataset.h"    // wm::Dataset
#include "wm/model.h"      // wm::Model, wm::TorchModel
#include "wm/env.h"        // wm::Env and its optional ScriptedPolicy capability
#include "wm/metric.h"     // wm::Metric
#include "wm/plugin.h"     // WM_PLUGIN
