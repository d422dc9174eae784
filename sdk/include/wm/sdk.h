// wmhost SDK: everything a plugin needs. Include this, implement one interface, add WM_PLUGIN.
#pragma once

#include "wm/abi.h"            // the C handshake and version numbers
#include "wm/error.h"          // wm::Error, wm::ConfigError, WM_CHECK
#include "wm/schema.h"         // declared parameters
#include "wm/params.h"         // validated parameter values
#include "wm/sample.h"         // named tensors: Sample, Batch, collate, KeySpec
#include "wm/component.h"      // the plugin kinds
#include "wm/dataset.h"        // wm::Dataset
#include "wm/dataset_split.h"  // seeded splits and nested subsets
#include "wm/model.h"          // wm::Model
#include "wm/env.h"            // wm::Env
#include "wm/metric.h"         // wm::Metric
#include "wm/log.h"            // wm::log()
#include "wm/atomic_file.h"    // write_file_atomic
#include "wm/metrics_log.h"    // metrics.jsonl
#include "wm/progress.h"       // progress lines with ETA
#include "wm/suggest.h"        // did-you-mean
#include "wm/runtime.h"        // threads and device
#include "wm/plugin.h"         // WM_PLUGIN
