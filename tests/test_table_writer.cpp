// One table writer: CSV fields quoted as RFC 4180 asks and read back by Python's csv module,
// Markdown cells that stay one cell, and a metric `name:` with a comma and a quote that survives
// evaluate_<data>.csv, summary.csv and the analysis layer that reads summary.csv back.
#include "report/table_writer.h"
#include "test_support.h"

namespace wm {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using test::read_text;

//---- cells and tables ----

TEST(TableWriter, QuotesOnlyFieldsWithACommaAQuoteOrALineBreak) {
  EXPECT_EQ(report::csv_field("psnr"), "psnr");
  EXPECT_EQ(report::csv_field("a,b"), "\"a,b\"");
  EXPECT_EQ(report::csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
  EXPECT_EQ(report::csv_field("two\nlines"), "\"two\nlines\"");
  EXPECT_EQ(report::csv_field("cr\rhere"), "\"cr\rhere\"");
  EXPECT_EQ(report::csv_field(""), "");
}

TEST(TableWriter, MarkdownCellsEscapePipesAndFoldLineBreaks) {
  report::Table table{{"name", "value"}, {{"a | b", "1"}, {"two\r\nlines", "2"}}, 1};
  EXPECT_EQ(table.markdown(), "| name | value |\n|---|---:|\n| a \\| b | 1 |\n| two lines | 2 |\n");
}

TEST(TableWriter, ParsesWhatItWritesIncludingEmptyAndQuotedFields) {
  report::Table table{{"name", "value", "note"},
                      {{"a,b", "1", ""}, {"\"q\"", "", "x\ny"}, {"", "3", "crlf\r\nend"}}, 1};
  auto records = report::parse_csv(table.csv());
  ASSERT_EQ(records.size(), 4u);
  EXPECT_EQ(records[0], table.header);
  for (size_t r = 0; r < table.rows.size(); ++r) EXPECT_EQ(records[r + 1], table.rows[r]) << r;
  // CRLF line ends (Excel's) read the same
  EXPECT_EQ(report::parse_csv("a,b\r\n\"1,2\",3\r\n"), (std::vector<std::vector<std::string>>{{"a", "b"}, {"1,2", "3"}}));
}

TEST(TableWriter, WritesAtomicallyAndReadsBackNamingABrokenFile) {
  test::TempDir dir;
  report::Table table{{"k", "v"}, {{"x,y", "1"}}, 1};
  report::write_csv(dir.path() / "sub/t.csv", table);
  auto back = report::read_csv(dir.path() / "sub/t.csv");
  EXPECT_EQ(back.header, table.header);
  EXPECT_EQ(back.rows, table.rows);
  EXPECT_TRUE(fs::is_empty(dir.path() / "sub") == false);
  for (const auto& entry : fs::directory_iterator(dir.path() / "sub"))
    EXPECT_EQ(entry.path().filename(), "t.csv") << "no temporary file left behind";
  dir.write("bad.csv", "k,v\n1,2,3\n");
  EXPECT_THAT(test::error_of([&] { report::read_csv(dir.path() / "bad.csv"); }),
              HasSubstr("bad.csv: record 2 has 3 fields, the header 2"));
}

TEST(TableWriter, PythonsCsvModuleReadsEveryAwkwardField) {
  test::TempDir dir;
  report::Table table{{"name", "value"}, {{"a,b", "1"}, {"say \"hi\"", "2"}, {"two\nlines", "3"}, {"|pipe|", "4"}}, 1};
  report::write_csv(dir.path() / "t.csv", table);
  std::string printed = test::run_python(dir, R"(
import csv, json, sys
with open(sys.argv[1] + "/t.csv", newline="") as f:
    print(json.dumps(list(csv.reader(f))))
)");
  EXPECT_EQ(printed, "[[\"name\", \"value\"], [\"a,b\", \"1\"], [\"say \\\"hi\\\"\", \"2\"], [\"two\\nlines\", \"3\"], "
                     "[\"|pipe|\", \"4\"]]\n");
}

//---- a metric name with a comma and a quote, through a whole sweep ----

// the metric's `name:` holds a comma, a quote and a pipe
const char* kAwkwardName = R"Y(experiment: awkward_names
threads: 1
data:
  val: {plugin: synthetic, split: all, params: {samples: 8, frames: 4, size: 16, seed: 0}}
model: {plugin: copy_last}
metrics: [{plugin: psnr, name: 'psnr, "clip" | all'}]
procedure:
  - evaluate: {data: val, batch_size: 4, preview: 0}
sweep:
  data.val.params.seed: [0, 1]
analysis:
  - aggregate: {over: data.val.params.seed, columns: ['evaluate[val]/psnr, "clip" | all/psnr'], stats: [mean, n]}
)Y";

TEST(TableWriter, AMetricNameWithACommaAndAQuoteRoundTripsThroughEvaluateSummaryAndAnalysis) {
  test::TempDir dir;
  dir.write("exp.yaml", kAwkwardName);
  auto run = test::wmhost("run exp.yaml --out sweep", dir.path());
  ASSERT_EQ(run.code, 0) << run.out << run.err;
  // Python's csv module reads evaluate_val.csv, summary.csv and the analysis table back
  std::string printed = test::run_python(dir, R"(
import csv, sys
d = sys.argv[1] + "/sweep"
name = 'psnr, "clip" | all/psnr'  # the psnr plugin reports psnr and mse under its name
rows = list(csv.reader(open(d + "/data.val.params.seed=0/evaluate_val.csv", newline="")))
assert rows[0] == ["metric", "value"], rows
values = {row[0]: float(row[1]) for row in rows[1:] if len(row) == 2}
assert name in values and name.replace("/psnr", "/mse") in values and "samples" in values, rows
summary = list(csv.DictReader(open(d + "/summary.csv", newline="")))
column = "evaluate[val]/" + name
assert len(summary) == 2 and column in summary[0], summary
assert float(summary[0][column]) == values[name], (summary[0][column], values[name])
aggregate = list(csv.DictReader(open(d + "/analysis/aggregate.csv", newline="")))
assert aggregate[0]["column"] == column, aggregate
mean = (float(summary[0][column]) + float(summary[1][column])) / 2
print("evaluate", values[name], "mean", mean, "analysis", aggregate[0]["mean"])
assert abs(float(aggregate[0]["mean"]) - mean) < 1e-9 * abs(mean), (aggregate[0]["mean"], mean)
)");
  EXPECT_THAT(printed, HasSubstr("analysis"));
  // the Markdown tables keep the name in one cell
  EXPECT_THAT(read_text(dir.path() / "sweep/data.val.params.seed=0/evaluate_val.md"),
              HasSubstr("| psnr, \"clip\" \\| all/psnr | "));
  EXPECT_THAT(read_text(dir.path() / "sweep/summary.md"), HasSubstr(" evaluate[val]/psnr, \"clip\" \\| all/psnr |"));
}

}  // namespace
}  // namespace wm
