#include <cstdio>
#include <cstring>

int main(int argc, char** argv) {
  if (argc > 1 && std::strcmp(argv[1], "--version") == 0) {
    std::puts("warmline 0.1.0");
    return 0;
  }
  std::fputs("usage: warmline --config FILE | check-config FILE | parse-sip FILE | --version\n", stderr);
  return 2;
}
