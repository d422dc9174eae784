// anchors the test suite's precompiled header target (tests/CMakeLists.txt); it does nothing
int main() { return 0; }
