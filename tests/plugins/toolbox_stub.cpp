// stands in for a toolbox library of a version this wmhost does not ship
extern "C" int wm_test_toolbox_stub() { return 99; }
