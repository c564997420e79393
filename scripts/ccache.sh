# Sourced by scripts/test.sh and scripts/fuzz.sh: when ccache is installed (scripts/setup.sh
# installs it), sets CCACHE_LAUNCHER to the CMake flags that compile through it. A file compiled
# before with the same flags, by any checkout on this machine, is then a cache lookup instead of
# a compile: CI's fresh clone and a developer's tree share entries, because paths under the
# checkout's parent are hashed relative to the build directory (CCACHE_BASEDIR) and the build
# directory itself is not hashed (CCACHE_NOHASHDIR; the Debug build's -g would otherwise add it).
# Defines that hold absolute paths would still be hashed, so none of ours do (the tests read
# theirs from one generated source: tests/support/test_paths.h). WASMCAP_NO_CCACHE=1 skips the
# cache.
CCACHE_LAUNCHER=()
if [ "${WASMCAP_NO_CCACHE:-0}" != "1" ] && command -v ccache >/dev/null; then
  CCACHE_BASEDIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
  export CCACHE_BASEDIR
  export CCACHE_NOHASHDIR=1
  CCACHE_LAUNCHER=(-DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
else
  CCACHE_LAUNCHER=(-DCMAKE_C_COMPILER_LAUNCHER= -DCMAKE_CXX_COMPILER_LAUNCHER=)
fi
