"""The container recipe (deploy/docker/Dockerfile) against the binary this build made.

No image is built here (no registry is reachable from the test machines), so the test checks what
breaks such images in practice: a shared library the binary links whose Debian package the runtime
stage does not install (the container would not start), and a library package of
scripts/install-deps.sh missing from the build stage (the image would not build).
"""
import re
import subprocess
import unittest

from harness import SOURCE_DIR, E2ETestCase, gateway_binary

DOCKERFILE = SOURCE_DIR / "deploy" / "docker" / "Dockerfile"
INSTALL_DEPS = SOURCE_DIR / "scripts" / "install-deps.sh"
# In debian:bookworm-slim already (Essential or required by apt).
BASE_PACKAGES = {"libc6", "libgcc-s1"}
# The runtimes a sanitizer build (make test-asan, make test-tsan) links: never in a release image.
SANITIZER_RUNTIME = re.compile(r"^lib(asan|ubsan|tsan|lsan)\.so")


def stage_packages(text):
    """The packages of each stage's `apt-get install` line, in stage order."""
    stages = []
    for block in re.split(r"^FROM ", text, flags=re.M)[1:]:
        joined = block.replace("\\\n", " ")
        match = re.search(r"apt-get install -y --no-install-recommends([^&]*)", joined)
        stages.append(set(match.group(1).split()) if match else set())
    return stages


def needed_packages(binary):
    """The Debian packages of the libraries `binary` links directly (DT_NEEDED)."""
    dynamic = subprocess.run(["objdump", "-p", str(binary)], capture_output=True, text=True, check=True).stdout
    needed = [s for s in re.findall(r"^\s*NEEDED\s+(\S+)", dynamic, flags=re.M) if not SANITIZER_RUNTIME.match(s)]
    ldd = subprocess.run(["ldd", str(binary)], capture_output=True, text=True, check=True).stdout
    paths = dict(re.findall(r"^\s*(\S+) => (\S+)", ldd, flags=re.M))
    packages = {}
    for soname in needed:
        path = paths[soname]
        real = subprocess.run(["readlink", "-f", path], capture_output=True, text=True, check=True).stdout.strip()
        # dpkg knows a file by the path its package ships (merged /usr: /lib/... or /usr/lib/...).
        candidates = [path, real] + [p.removeprefix("/usr") for p in (path, real) if p.startswith("/usr/")]
        for candidate in candidates:
            owner = subprocess.run(["dpkg", "-S", candidate], capture_output=True, text=True)
            if owner.returncode == 0:
                packages[soname] = owner.stdout.split(":")[0]
                break
        else:
            raise AssertionError(f"no Debian package owns {path} ({soname})")
    return packages


def install_deps_libraries():
    """The `# libraries` group of scripts/install-deps.sh's default list."""
    text = INSTALL_DEPS.read_text()
    group = re.search(r"# libraries[^\n]*\n(.*?)\n\s*#", text, flags=re.S).group(1)
    return set(group.split())


class DockerRecipe(E2ETestCase):
    def test_runtime_stage_has_every_linked_library(self):
        build, runtime = stage_packages(DOCKERFILE.read_text())
        packages = needed_packages(gateway_binary())
        self.assertIn("libsrtp2-1", packages.values(), "the binary links libsrtp2 (sanity check)")
        missing = {s: p for s, p in packages.items() if p not in runtime | BASE_PACKAGES}
        self.assertEqual(missing, {}, "libraries whose package the runtime stage does not install")

    def test_build_stage_has_every_library_package(self):
        build, _runtime = stage_packages(DOCKERFILE.read_text())
        libraries = install_deps_libraries()
        self.assertIn("libsrtp2-dev", libraries, "the # libraries group was found (sanity check)")
        self.assertEqual(libraries - build, set(), "library packages missing from the build stage")


if __name__ == "__main__":
    unittest.main()
