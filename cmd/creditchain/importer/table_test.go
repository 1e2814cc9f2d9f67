package importer

import (
	"slices"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"
	"golang.org/x/text/encoding/simplifiedchinese"
)

const sampleCSV = "统一社会信用代码,企业名称,失信类别\n91350200776049653A,厦门某某有限公司,失信被执行人\n"

func TestReadCSVEncodings(t *testing.T) {
	gbk, err := simplifiedchinese.GBK.NewEncoder().String(sampleCSV)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, data, encoding, want string
	}{
		{"utf8", sampleCSV, "", EncodingUTF8},
		{"utf8 with BOM", "\uFEFF" + sampleCSV, "", EncodingUTF8},
		{"gbk detected", gbk, "", EncodingGBK},
		{"gbk forced", gbk, "gbk", EncodingGBK},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tab, err := ReadTable(writeFile(t, "list.csv", []byte(c.data)), c.encoding, "")
			if err != nil {
				t.Fatal(err)
			}
			if tab.Encoding != c.want {
				t.Errorf("encoding %s, want %s", tab.Encoding, c.want)
			}
			if !slices.Equal(tab.Header, []string{"统一社会信用代码", "企业名称", "失信类别"}) {
				t.Errorf("header %q", tab.Header)
			}
			if len(tab.Rows) != 1 || tab.Rows[0].Cells[1] != "厦门某某有限公司" || tab.Rows[0].Line != 2 {
				t.Errorf("rows %+v", tab.Rows)
			}
		})
	}
	// A GBK file forced as UTF-8 is refused, and bytes that are neither
	// UTF-8 nor GBK are refused in auto mode.
	if _, err := ReadTable(writeFile(t, "gbk.csv", []byte(gbk)), "utf-8", ""); err == nil || !strings.Contains(err.Error(), "not valid UTF-8") {
		t.Errorf("GBK read as UTF-8: %v", err)
	}
	if _, err := ReadTable(writeFile(t, "junk.csv", []byte("a,b\n\xff\xfe\xff,x\n")), "", ""); err == nil || !strings.Contains(err.Error(), "neither UTF-8 nor GBK") {
		t.Errorf("junk bytes: %v", err)
	}
	if _, err := ReadTable(writeFile(t, "list.xls", []byte("x")), "", ""); err == nil || !strings.Contains(err.Error(), ".xlsx") {
		t.Errorf("a .xls file: %v", err)
	}
}

func TestReadCSVLineNumbers(t *testing.T) {
	// A quoted cell spanning two lines, a blank line and a tab-separated
	// header: line numbers are where each row starts in the file.
	data := "名称\t案号\n甲\t\"第1号\n续\"\n\n乙\t第2号\n"
	tab, err := ReadTable(writeFile(t, "list.tsv", []byte(data)), "", "")
	if err != nil {
		t.Fatal(err)
	}
	if len(tab.Rows) != 2 || tab.Rows[0].Line != 2 || tab.Rows[1].Line != 5 || tab.Rows[1].Cells[1] != "第2号" {
		t.Errorf("rows %+v, want lines 2 and 5", tab.Rows)
	}
	if tab.SHA256 == "" || len(tab.SHA256) != 64 {
		t.Errorf("sha256 %q", tab.SHA256)
	}
}

// TestReadXLSX writes a workbook with excelize: a real date cell (a serial
// with a date format), a text date, a number and an empty row.
func TestReadXLSX(t *testing.T) {
	for _, date1904 := range []bool{false, true} {
		f := excelize.NewFile()
		if date1904 {
			if err := f.SetWorkbookProps(&excelize.WorkbookPropsOptions{Date1904: &date1904}); err != nil {
				t.Fatal(err)
			}
		}
		sheet := f.GetSheetName(0)
		must := func(err error) {
			t.Helper()
			if err != nil {
				t.Fatal(err)
			}
		}
		must(f.SetSheetRow(sheet, "A1", &[]any{"统一社会信用代码", "名称", "决定日期", "起始日期", "期限"}))
		must(f.SetSheetRow(sheet, "A2", &[]any{"91350200776049653A", "厦门某某有限公司", nil, "2026年1月5日", "2年"}))
		serial := 46027
		if date1904 {
			serial -= 1462
		}
		must(f.SetCellValue(sheet, "C2", serial))
		style, err := f.NewStyle(&excelize.Style{NumFmt: 14}) // m/d/yyyy
		must(err)
		must(f.SetCellStyle(sheet, "C2", "C2", style))
		must(f.SetSheetRow(sheet, "A4", &[]any{"91350200776049653A", "第四行", serial + 1, nil, "无期限"}))
		path := writeFile(t, "list.xlsx", nil)
		must(f.SaveAs(path))

		tab, err := ReadTable(path, "", "")
		if err != nil {
			t.Fatal(err)
		}
		if tab.Encoding != "xlsx" || tab.Date1904 != date1904 {
			t.Errorf("encoding %s date1904 %v", tab.Encoding, tab.Date1904)
		}
		if len(tab.Rows) != 2 || tab.Rows[0].Line != 2 || tab.Rows[1].Line != 4 {
			t.Fatalf("rows %+v: want lines 2 and 4 (row 3 is empty)", tab.Rows)
		}
		for i, want := range []string{"2026-01-05", "2026-01-06"} {
			got, err := ParseDate(tab.Rows[i].Cells[2], tab.Date1904)
			if err != nil || FormatDate(got) != want {
				t.Errorf("date1904=%v row %d: date cell %q → %s, %v; want %s", date1904, i, tab.Rows[i].Cells[2], FormatDate(got), err, want)
			}
		}
		if tab.Rows[0].Cells[3] != "2026年1月5日" {
			t.Errorf("text date cell %q", tab.Rows[0].Cells[3])
		}
	}
}

func TestReadXLSXSheetFromMapping(t *testing.T) {
	f := excelize.NewFile()
	if _, err := f.NewSheet("名单"); err != nil {
		t.Fatal(err)
	}
	if err := f.SetSheetRow("名单", "A1", &[]any{"案号"}); err != nil {
		t.Fatal(err)
	}
	if err := f.SetSheetRow("名单", "A2", &[]any{"(2026)闽02执1号"}); err != nil {
		t.Fatal(err)
	}
	path := writeFile(t, "list.xlsx", nil)
	if err := f.SaveAs(path); err != nil {
		t.Fatal(err)
	}
	tab, err := ReadTable(path, "", "名单")
	if err != nil || len(tab.Rows) != 1 || tab.Rows[0].Cells[0] != "(2026)闽02执1号" {
		t.Fatalf("sheet 名单: %+v, %v", tab, err)
	}
	if _, err := ReadTable(path, "", "没有"); err == nil {
		t.Error("a missing sheet was read")
	}
}
