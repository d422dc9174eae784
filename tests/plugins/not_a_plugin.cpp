// A shared library without the wmhost handshake.
extern "C" int wm_stray_function() { return 42; }
