// Keeps the documentation's code honest: every code example in the public
// headers (include/gofer/**), the README and docs/go-to-gofer.md must be an
// excerpt of a program under examples/ — which CI compiles (and the
// snippets under examples/snippets/ also runs). An example that drifts
// from the compiled code, or one written without a program behind it,
// fails this check with its file and line.
//
// What counts as an example:
//   - in a header, a run of comment lines indented by three or more spaces
//     ("//   code") in which some line ends like a statement (';', '{', '}',
//     before an optional trailing comment) — not a "- " list, nor a table
//     whose first row is a name, two blanks and its meaning — and a
//     ```cpp fence inside a comment;
//   - in Markdown, a ```cpp fence.
// An excerpt: the example's lines, each trimmed and with runs of blanks
// squeezed, appear in order in one file (lines between them may be left
// out). A line that is only "...", "…" or holds "// ..." stands for elided
// code and is skipped.
//
//   check_excerpts <source root>
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

namespace fs = std::filesystem;

namespace {

struct Block {
  std::string file;
  int line = 0;
  std::vector<std::string> lines;
};

std::vector<std::string> read_lines(const fs::path& p) {
  std::ifstream in(p);
  std::vector<std::string> out;
  for (std::string l; std::getline(in, l);) out.push_back(l);
  return out;
}

std::string normalize(const std::string& s) {
  std::string out;
  bool blank = false;
  for (char c : s) {
    if (c == ' ' || c == '\t') {
      blank = true;
      continue;
    }
    if (blank && !out.empty()) out += ' ';
    blank = false;
    out += c;
  }
  return out;
}

bool elided(const std::string& l) {
  return l.empty() || l == "..." || l == "…" || l.find("// ...") != std::string::npos ||
         l.find("// …") != std::string::npos || l.find("{ ... }") != std::string::npos ||
         l.find("{ … }") != std::string::npos;
}

bool looks_like_code(const std::vector<std::string>& lines) {
  static const std::regex statement_end(R"([;{}]\s*(//.*)?$)");
  // Not a list ("- item") nor a table ("name  what it is").
  static const std::regex table_row(R"(^[\w-]+  +\S)");
  if (lines.empty() || lines.front().rfind("- ", 0) == 0 ||
      std::regex_search(lines.front(), table_row))
    return false;
  return std::any_of(lines.begin(), lines.end(),
                     [](const std::string& l) { return std::regex_search(l, statement_end); });
}

std::vector<Block> header_blocks(const fs::path& p, const std::string& name) {
  static const std::regex indented(R"(^\s*//   (.*)$)");
  static const std::regex comment(R"(^\s*// ?(.*)$)");
  std::vector<Block> out;
  std::vector<std::string> lines = read_lines(p);
  Block cur;
  bool in_fence = false;
  auto flush = [&] {
    if (looks_like_code(cur.lines)) out.push_back(cur);
    cur = Block{name, 0, {}};
  };
  for (std::size_t i = 0; i < lines.size(); ++i) {
    std::smatch m;
    bool is_comment = std::regex_match(lines[i], m, comment);
    std::string text = is_comment ? m[1].str() : "";
    if (is_comment && normalize(text).rfind("```", 0) == 0) {
      if (!in_fence && normalize(text) != "```cpp") continue;  // another language
      flush();
      in_fence = !in_fence;
      if (in_fence) cur.line = static_cast<int>(i) + 2;
      continue;
    }
    if (in_fence) {
      cur.lines.push_back(text);
      continue;
    }
    if (std::regex_match(lines[i], m, indented)) {
      if (cur.lines.empty()) cur.line = static_cast<int>(i) + 1;
      cur.lines.push_back(m[1].str());
    } else {
      flush();
    }
  }
  flush();
  return out;
}

std::vector<Block> markdown_blocks(const fs::path& p, const std::string& name) {
  std::vector<Block> out;
  std::vector<std::string> lines = read_lines(p);
  Block cur{name, 0, {}};
  bool in_fence = false;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    std::string t = normalize(lines[i]);
    if (!in_fence && t == "```cpp") {
      in_fence = true;
      cur = Block{name, static_cast<int>(i) + 2, {}};
    } else if (in_fence && t == "```") {
      in_fence = false;
      out.push_back(cur);
    } else if (in_fence) {
      cur.lines.push_back(lines[i]);
    }
  }
  return out;
}

// The first line of `block` not found (in order) in `program`, or "" if it
// is an excerpt of it.
std::string first_missing(const Block& block, const std::vector<std::string>& program) {
  std::size_t at = 0;
  for (const std::string& raw : block.lines) {
    std::string want = normalize(raw);
    if (elided(want)) continue;
    while (at < program.size() && program[at] != want) ++at;
    if (at == program.size()) return want;
    ++at;
  }
  return "";
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: check_excerpts <source root>\n");
    return 2;
  }
  fs::path root = argv[1];
  std::vector<Block> blocks;
  for (const auto& e : fs::recursive_directory_iterator(root / "include" / "gofer")) {
    if (e.path().extension() != ".h") continue;
    auto b = header_blocks(e.path(), fs::relative(e.path(), root).string());
    blocks.insert(blocks.end(), b.begin(), b.end());
  }
  for (const char* md : {"README.md", "docs/go-to-gofer.md"}) {
    if (!fs::exists(root / md)) continue;
    auto b = markdown_blocks(root / md, md);
    blocks.insert(blocks.end(), b.begin(), b.end());
  }
  std::vector<std::vector<std::string>> programs;
  for (const auto& e : fs::recursive_directory_iterator(root / "examples")) {
    auto ext = e.path().extension();
    if (ext != ".cpp" && ext != ".h") continue;
    std::vector<std::string> norm;
    for (const std::string& l : read_lines(e.path())) norm.push_back(normalize(l));
    programs.push_back(std::move(norm));
  }
  int failures = 0;
  for (const Block& b : blocks) {
    std::string missing = normalize(b.lines.empty() ? "" : b.lines.front());
    for (const auto& prog : programs) {
      std::string m = first_missing(b, prog);
      if (m.empty()) {
        missing.clear();
        break;
      }
    }
    if (!missing.empty()) {
      // Name the line that the closest program lacks: the first, for brevity.
      std::fprintf(stderr, "%s:%d: example is not an excerpt of a program under examples/ (%s)\n",
                   b.file.c_str(), b.line, missing.c_str());
      ++failures;
    }
  }
  std::printf("%zu examples checked, %d not compiled anywhere\n", blocks.size(), failures);
  return failures == 0 ? 0 : 1;
}
