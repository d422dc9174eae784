// A toolbox library of a version this wmhost does not ship (built as libwmsdk_io.so.99): a plugin
// linked against it must be refused before it loads.
extern "C" int wm_test_old_io_toolbox_version() { return 99; }
