#include <cstdio>
int main() { std::puts("zlayer"); return 0; }
