//! End to end: the monthly report's XLSX as LibreOffice prints it — a second, visual reader
//! beside tests/report.rs's openpyxl. `madoguchi seed month` fills a temporary SQLite
//! database, `madoguchi report monthly --format xlsx` writes the workbook, headless
//! LibreOffice (`soffice --convert-to pdf`, with a profile of its own so parallel runs never
//! share one) prints it to PDF, and poppler reads the PDF back: its text (`pdftotext`), its
//! fonts (`pdffonts`) and its pixels (`pdftoppm`). A report whose sheets, Japanese headings,
//! era, totals or charts break shows here as it would on the city's printer.
//!
//! Every page is saved as `target/test-artifacts/report/monthly-page-N.png` (60 dpi), the PDF
//! beside them as `monthly.pdf`.
//!
//! Needs `soffice` (libreoffice-calc-nogui), poppler-utils and a Japanese font
//! (fonts-ipafont-gothic); scripts/test.sh installs them.

mod support;

use std::ops::Range;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use support::browser::artifacts_dir;
use support::{madoguchi_cli, repo_root};

const MONTH: &str = "2025-06";
const CALLS: usize = 3_000;
/// The report's heading line, on every sheet.
const HEADING: &str = "座間市マイナンバーカード相談コールセンター 月次報告 2025年6月（令和7年6月）";
/// As much of the heading as any paper shows.
const HEADING_START: &str = "座間市マイナンバーカード相談コールセンター 月次報告";
const ERA_MONTH: &str = "令和7年6月";
const DAILY_CHART: &str = "日別の受付件数・応答件数";
const CATEGORY_CHART: &str = "問い合わせ内容別の件数";
/// A cold LibreOffice with a fresh profile converts the workbook in a few seconds; this
/// bounds a hung one on a loaded machine.
const SOFFICE_LIMIT: Duration = Duration::from_secs(180);
const AREA: &str = "report";
const DPI: &str = "60";

/// The month's workbook printed to PDF, with the CSV of the same month as the oracle.
struct Printed {
    dir: tempfile::TempDir,
    pdf: PathBuf,
    csv: String,
    /// `pdftotext -layout`, one string per page.
    pages: Vec<String>,
    /// Every word with its place (`pdftotext -bbox`).
    words: Vec<Word>,
}

fn print_month() -> Printed {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}", dir.path().join("report.db").display());
    let dialplan = repo_root()
        .join("dialplans/zama.toml")
        .display()
        .to_string();
    let calls = CALLS.to_string();
    cli(&[
        "seed",
        "month",
        "--month",
        MONTH,
        "--calls",
        &calls,
        "--seed",
        "11",
        "--dialplan",
        &dialplan,
        "--database-url",
        &url,
    ]);
    let report = |format: &str| {
        let out = dir.path().join(format!("monthly.{format}"));
        let out_text = out.display().to_string();
        cli(&[
            "report",
            "monthly",
            "--month",
            MONTH,
            "--format",
            format,
            "--out",
            &out_text,
            "--dialplan",
            &dialplan,
            "--database-url",
            &url,
        ]);
        out
    };
    let xlsx = report("xlsx");
    let csv = std::fs::read_to_string(report("csv")).expect("the CSV is UTF-8");
    let pdf = soffice_to_pdf(&xlsx, dir.path());
    let pages = output(
        "pdftotext",
        &["-layout".as_ref(), pdf.as_os_str(), "-".as_ref()],
    )
    .split_terminator('\u{c}')
    .map(str::to_owned)
    .collect();
    let words = words(&pdf);
    Printed {
        dir,
        pdf,
        csv,
        pages,
        words,
    }
}

fn cli(args: &[&str]) {
    let (code, _, stderr) = madoguchi_cli(args, "");
    assert_eq!(code, 0, "madoguchi {}: {stderr}", args[..2].join(" "));
}

/// `soffice --headless --convert-to pdf`, bounded by [`SOFFICE_LIMIT`]; the PDF's path.
fn soffice_to_pdf(xlsx: &Path, dir: &Path) -> PathBuf {
    let profile = dir.join("soffice-profile");
    let child = Command::new("soffice")
        .arg(format!(
            "-env:UserInstallation=file://{}",
            profile.display()
        ))
        .args([
            "--headless",
            "--norestore",
            "--convert-to",
            "pdf",
            "--outdir",
        ])
        .arg(dir)
        .arg(xlsx)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        // soffice runs soffice.bin as its child: a group of their own lets a timeout end both.
        .process_group(0)
        .spawn()
        .expect("run soffice (libreoffice-calc-nogui, see scripts/test.sh)");
    let group = child.id();
    let (done, finished) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = done.send(child.wait_with_output());
    });
    let Ok(result) = finished.recv_timeout(SOFFICE_LIMIT) else {
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{group}")])
            .status();
        panic!("soffice did not convert the workbook within {SOFFICE_LIMIT:?}");
    };
    let out = result.expect("wait for soffice");
    let pdf = xlsx.with_extension("pdf");
    assert!(
        out.status.success() && pdf.exists(),
        "soffice wrote no PDF ({}): {}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    pdf
}

/// A reader's (poppler's, fontconfig's) standard output.
fn output<S: AsRef<std::ffi::OsStr>>(program: &str, args: &[S]) -> String {
    let out = Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("run {program} (see scripts/test.sh): {e}"));
    assert!(
        out.status.success(),
        "{program}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap_or_else(|e| panic!("{program} wrote no UTF-8: {e}"))
}

/// The CSV's sections in order: title (without "■ ") and rows of fields.
fn sections(csv: &str) -> Vec<(String, Vec<Vec<String>>)> {
    csv.split("\r\n\r\n")
        .skip(1)
        .map(|block| {
            let mut rows: Vec<Vec<String>> = csv::ReaderBuilder::new()
                .has_headers(false)
                .flexible(true)
                .from_reader(block.as_bytes())
                .records()
                .map(|r| r.expect("a CSV record").iter().map(str::to_owned).collect())
                .collect();
            let title = rows.remove(0)[0].trim_start_matches("■ ").to_owned();
            (title, rows)
        })
        .collect()
}

fn section<'a>(sections: &'a [(String, Vec<Vec<String>>)], prefix: &str) -> &'a [Vec<String>] {
    &sections
        .iter()
        .find(|(title, _)| title.starts_with(prefix))
        .unwrap_or_else(|| panic!("no CSV section {prefix}"))
        .1
}

/// Whether the page opens with the report's heading line and then `title` (the sheet's
/// layout: row 1 the heading, row 2 the table's title). The heading runs over the empty
/// cells to its right and is cut where the page ends, so its start is enough.
fn opens_with(page: &str, title: &str) -> bool {
    let mut lines = page.lines().map(str::trim).filter(|l| !l.is_empty());
    lines
        .next()
        .is_some_and(|l| l.starts_with(HEADING_START) && HEADING.starts_with(l))
        && lines.next() == Some(title)
}

/// Whether a printed row reads `label` and then, on the same page or one further right
/// among `pages` (a sheet wider than the paper continues there at the same height),
/// `value`.
fn row_reads(words: &[Word], pages: Range<usize>, label: &str, value: &str) -> bool {
    // pdftotext also splits words where the font changes ("うち5" "秒未満…"), so the label
    // is compared without its blanks.
    let label: String = label.split_whitespace().collect();
    let with_value = format!("{label}{value}");
    pages.clone().any(|page| {
        lines(words, page).iter().any(|(y, line)| {
            let text = line.concat();
            (text == label || text == with_value)
                && words
                    .iter()
                    .any(|w| pages.contains(&w.page) && (w.y - y).abs() < 1.0 && w.text == value)
        })
    })
}

/// The page's lines: the words at one height, left to right.
fn lines(words: &[Word], page: usize) -> Vec<(f64, Vec<&str>)> {
    let mut rows: Vec<(f64, Vec<&Word>)> = Vec::new();
    for word in words.iter().filter(|w| w.page == page) {
        match rows.iter_mut().find(|(y, _)| (y - word.y).abs() < 1.0) {
            Some((_, row)) => row.push(word),
            None => rows.push((word.y, vec![word])),
        }
    }
    rows.into_iter()
        .map(|(y, mut row)| {
            row.sort_by(|a, b| a.x.total_cmp(&b.x));
            (y, row.iter().map(|w| w.text.as_str()).collect())
        })
        .collect()
}

/// `1234567` as Excel's `#,##0` prints it: `1,234,567`.
fn thousands(digits: &str) -> String {
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// The index of the page that shows the chart titled `title`.
fn chart_page(printed: &Printed, title: &str) -> usize {
    printed
        .pages
        .iter()
        .position(|p| p.lines().any(|l| l.trim() == title))
        .unwrap_or_else(|| panic!("no page shows the chart {title}"))
}

/// Renders every page as `monthly-page-N.png` (and copies the PDF) into the artefacts
/// folder, replacing an earlier run's pages; the folder.
fn save_pages(printed: &Printed) -> PathBuf {
    let artifacts = artifacts_dir(AREA);
    for entry in std::fs::read_dir(&artifacts).expect("the artefacts folder") {
        let path = entry.expect("a folder entry").path();
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if name.starts_with("monthly-page-") && name.ends_with(".png") {
            std::fs::remove_file(&path).expect("remove an old page");
        }
    }
    let rendered = printed.dir.path().join("png");
    std::fs::create_dir(&rendered).expect("a folder for the pages");
    output(
        "pdftoppm",
        &[
            "-png".as_ref(),
            "-r".as_ref(),
            DPI.as_ref(),
            printed.pdf.as_os_str(),
            rendered.join("page").as_os_str(),
        ],
    );
    // pdftoppm pads the page numbers to one width, so the names sort in page order.
    let mut pngs: Vec<PathBuf> = std::fs::read_dir(&rendered)
        .expect("the rendered pages")
        .map(|e| e.expect("a folder entry").path())
        .collect();
    pngs.sort();
    assert_eq!(pngs.len(), printed.pages.len(), "a PNG per page");
    for (i, png) in pngs.iter().enumerate() {
        let to = artifacts.join(format!("monthly-page-{}.png", i + 1));
        std::fs::copy(png, &to).expect("copy a page into the artefacts");
    }
    std::fs::copy(&printed.pdf, artifacts.join("monthly.pdf")).expect("copy the PDF");
    artifacts
}

/// Page `index` rendered as RGB pixels: (width, height, bytes).
fn page_pixels(printed: &Printed, index: usize) -> (usize, usize, Vec<u8>) {
    let page = (index + 1).to_string();
    let prefix = printed.dir.path().join(format!("pixels-{page}"));
    output(
        "pdftoppm",
        &[
            "-r".as_ref(),
            DPI.as_ref(),
            "-f".as_ref(),
            page.as_ref(),
            "-l".as_ref(),
            page.as_ref(),
            "-singlefile".as_ref(),
            printed.pdf.as_os_str(),
            prefix.as_os_str(),
        ],
    );
    let bytes = std::fs::read(prefix.with_extension("ppm")).expect("pdftoppm's PPM");
    read_ppm(&bytes)
}

/// A binary PPM (`P6`, 8 bits a sample), as pdftoppm writes it: a header of four
/// blank-separated fields (magic, width, height, maximum sample), one blank, the samples.
fn read_ppm(bytes: &[u8]) -> (usize, usize, Vec<u8>) {
    let mut fields = Vec::new();
    let mut at = 0;
    while fields.len() < 4 {
        while bytes.get(at).is_some_and(u8::is_ascii_whitespace) {
            at += 1;
        }
        if bytes.get(at) == Some(&b'#') {
            while bytes.get(at).is_some_and(|&b| b != b'\n') {
                at += 1;
            }
            continue;
        }
        let start = at;
        while bytes.get(at).is_some_and(|b| !b.is_ascii_whitespace()) {
            at += 1;
        }
        assert!(at > start, "a PPM header");
        fields.push(String::from_utf8_lossy(&bytes[start..at]).into_owned());
    }
    let number = |i: usize| -> usize { fields[i].parse().expect("a PPM header number") };
    assert_eq!(fields[0], "P6", "a binary PPM");
    assert_eq!(number(3), 255, "8-bit samples");
    let (width, height) = (number(1), number(2));
    let samples = bytes
        .get(at + 1..at + 1 + width * height * 3)
        .expect("the PPM's samples");
    (width, height, samples.to_vec())
}

/// How many pixels are in the chart series' colours: rust_xlsxwriter's default palette
/// gives the first series a blue (#4F81BD) and the second a red (#C0504D). Text, grid
/// lines and the pale heading fill are grey or nearly so and count in neither.
fn series_pixels(rgb: &[u8]) -> (usize, usize) {
    let mut blue = 0;
    let mut red = 0;
    for px in rgb.chunks_exact(3) {
        let (r, b) = (i32::from(px[0]), i32::from(px[2]));
        blue += usize::from(b - r > 60);
        red += usize::from(r - b > 60);
    }
    (blue, red)
}

/// A word `pdftotext -bbox` places on a page (0-based), in points from the page's top left.
#[derive(Debug)]
struct Word {
    page: usize,
    text: String,
    x: f64,
    y: f64,
}

fn words(pdf: &Path) -> Vec<Word> {
    let html = output(
        "pdftotext",
        &["-bbox".as_ref(), pdf.as_os_str(), "-".as_ref()],
    );
    let attribute = |tag: &str, name: &str| -> f64 {
        let from = tag.find(&format!("{name}=\"")).expect("a bbox attribute") + name.len() + 2;
        let to = from + tag[from..].find('"').expect("a closing quote");
        tag[from..to].parse().expect("a coordinate")
    };
    let mut words = Vec::new();
    let mut page = None;
    for line in html.lines().map(str::trim) {
        if line.starts_with("<page ") {
            page = Some(page.map_or(0, |p| p + 1));
        }
        let (Some(page), Some(rest)) = (page, line.strip_prefix("<word ")) else {
            continue;
        };
        let Some((tag, text)) = rest.split_once('>') else {
            continue;
        };
        let text = text.strip_suffix("</word>").unwrap_or(text);
        words.push(Word {
            page,
            text: text
                .replace("&lt;", "<")
                .replace("&gt;", ">")
                .replace("&quot;", "\"")
                .replace("&amp;", "&"),
            x: attribute(tag, "xMin"),
            y: attribute(tag, "yMin"),
        });
    }
    words
}

#[test]
fn the_monthly_xlsx_prints_in_libreoffice_with_its_japanese_headings_era_totals_and_charts() {
    let printed = print_month();
    let artifacts = save_pages(&printed);
    eprintln!(
        "the printed report: {} ({} pages, monthly-page-N.png and monthly.pdf)",
        artifacts.display(),
        printed.pages.len()
    );
    let sections = sections(&printed.csv);
    assert_eq!(sections.len(), 10, "the report's ten tables");
    let pages = &printed.pages;
    assert!(pages.len() >= sections.len(), "at least a page per sheet");

    // Every sheet starts a page with the heading line and its Japanese title, in the
    // workbook's order.
    let starts: Vec<usize> = sections
        .iter()
        .map(|(title, _)| {
            pages
                .iter()
                .position(|page| opens_with(page, title))
                .unwrap_or_else(|| panic!("no page opens with the heading and {title}"))
        })
        .collect();
    assert!(
        starts.windows(2).all(|w| w[0] < w[1]),
        "the sheets print in order: {starts:?}"
    );

    // The summary sheet has the era and the CSV's figures, printed with Excel's formats.
    let words = &printed.words;
    let summary_pages = starts[0]..starts[1];
    assert!(
        row_reads(words, summary_pages.clone(), "和暦", ERA_MONTH),
        "the era {ERA_MONTH}"
    );
    let summary = section(&sections, "概要");
    let offered = summary
        .iter()
        .find(|row| row[0] == "受付件数 (件)")
        .expect("the CSV's offered calls");
    assert!(
        row_reads(
            words,
            summary_pages.clone(),
            &offered[0],
            &thousands(&offered[1])
        ),
        "{} {}",
        offered[0],
        offered[1]
    );
    for row in summary.iter().skip(1) {
        let (label, value) = (&row[0], &row[1]);
        let printed_as = if label.contains("(件") {
            thousands(value)
        } else if label.contains('%') {
            format!("{value}%")
        } else {
            continue;
        };
        assert!(
            row_reads(words, summary_pages.clone(), label, &printed_as),
            "{label} should print as {printed_as}"
        );
    }

    // The Japanese text is drawn with a Japanese font, not as boxes.
    let japanese: Vec<String> = output("fc-list", &[":lang=ja", "family"])
        .lines()
        .filter_map(|l| l.split(',').next())
        .map(|family| family.replace(' ', ""))
        .collect();
    let fonts = output("pdffonts", &[printed.pdf.as_os_str()]);
    let embedded: Vec<&str> = fonts
        .lines()
        .skip(2)
        .filter_map(|l| l.split_whitespace().next())
        .map(|name| name.split_once('+').map_or(name, |(_, font)| font))
        .collect();
    assert!(
        embedded.iter().any(|f| japanese.iter().any(|j| j == f)),
        "no Japanese font among {embedded:?} (Japanese fonts here: {japanese:?})"
    );

    // Both charts are drawn: their bars cover a share of their page in the series' colours.
    for title in [DAILY_CHART, CATEGORY_CHART] {
        let index = chart_page(&printed, title);
        let (width, height, rgb) = page_pixels(&printed, index);
        let (first, second) = series_pixels(&rgb);
        let page = width * height;
        assert!(
            first + second >= page / 50 && first.min(second) >= page / 2000,
            "the chart {title} on page {} has {first} + {second} of {page} pixels in its \
             series' colours",
            index + 1
        );
    }
}

/// The category chart is a horizontal bar chart; a bar chart's vertical axis is its category
/// axis, so listing the first category at the top reverses that axis, not the horizontal
/// value axis (which would make the bars grow leftwards from a zero on the right).
#[test]
fn the_category_bars_list_the_first_category_at_the_top_and_grow_to_the_right() {
    let printed = print_month();
    let index = chart_page(&printed, CATEGORY_CHART);
    let words: Vec<&Word> = printed.words.iter().filter(|w| w.page == index).collect();
    let sections = sections(&printed.csv);
    let names: Vec<&str> = section(&sections, "問い合わせ内容内訳")
        .iter()
        .skip(1)
        .filter(|row| row[0] != "合計")
        .map(|row| row[1].as_str())
        .collect();
    // A long label may be cut at the chart's or the page's edge: a part of it is enough. The
    // chart stands below its table, so the lowest of a name's words is the chart's.
    let label_y = |name: &str| {
        words
            .iter()
            .filter(|w| w.text.chars().count() >= 3 && name.contains(w.text.as_str()))
            .max_by(|a, b| a.y.total_cmp(&b.y))
            .map(|w| w.y)
    };
    let placed: Vec<(&str, f64)> = names
        .iter()
        .filter_map(|&name| label_y(name).map(|y| (name, y)))
        .collect();
    assert!(
        placed.len() >= 2
            && placed.first().map(|p| p.0) == names.first().copied()
            && placed.last().map(|p| p.0) == names.last().copied(),
        "the first and the last category are labelled on page {}: {placed:?}",
        index + 1
    );
    assert!(
        placed.windows(2).all(|w| w[0].1 < w[1].1),
        "the categories read top to bottom in the table's order: {placed:?}"
    );
    // The value axis: a line of numbers only (a table row names its category).
    let number = |text: &str| text.replace(',', "").parse::<u64>().ok();
    let ticks: Vec<u64> = lines(&printed.words, index)
        .into_iter()
        .map(|(_, line)| line.into_iter().map(number).collect::<Option<Vec<u64>>>())
        .find_map(|numbers| numbers.filter(|n| n.len() >= 3))
        .unwrap_or_else(|| panic!("no value axis labels on page {}", index + 1));
    assert!(
        ticks.windows(2).all(|w| w[0] < w[1]),
        "the value axis grows to the right: {ticks:?}"
    );
}
