//! Each loader on good files and on broken ones; errors name the file and line.

use crate::support;

use support::{dataset, tiny_movielens};
use tiger_core::data::{self, DataError, Layout};

#[test]
fn movielens_good_folder() {
    let dir = tiny_movielens("ml-good");
    assert_eq!(data::detect(&dir).unwrap(), Layout::MovieLens);
    let ds = data::load(&dir).unwrap();
    assert_eq!(ds.items.len(), 6);
    assert_eq!(ds.users.len(), 6);
    assert_eq!(ds.interactions.len(), 31);
    assert_eq!(
        ds.items[0].text,
        "Toy Story. Year: 1995. Genres: Adventure, Animation. Tags: pixar, toys."
    );
    // Quoted title with a comma survives as one field.
    assert!(
        ds.items[1]
            .text
            .starts_with("American President, The. Year: 1995."),
        "{}",
        ds.items[1].text
    );
    assert_eq!(ds.items[5].text, "Unrated. Year: 2000.");
    assert_eq!(ds.items[1].title, "American President, The (1995)");
}

#[test]
fn bundled_sample_loads() {
    let ds = data::load(&support::sample_dir()).unwrap();
    assert_eq!(ds.format, "MovieLens");
    assert!(ds.items.len() > 9000, "{}", ds.items.len());
    assert!(ds.interactions.len() > 99_000);
    let split = data::split(&ds, 5).unwrap();
    assert!(split.users.len() > 600);
}

fn err(files: &[(&str, &str)], name: &str) -> String {
    let dir = dataset(name, files);
    let e = data::load(&dir).unwrap_err();
    e.to_string()
}

#[test]
fn movielens_missing_column_names_file() {
    let e = err(
        &[
            ("movies.csv", "id,title\n1,A (1999)\n"),
            ("ratings.csv", "userId,movieId,rating,timestamp\n1,1,4,5\n"),
        ],
        "ml-missing-col",
    );
    assert!(
        e.contains("movies.csv") && e.contains("missing column 'movieId'"),
        "{e}"
    );
}

#[test]
fn movielens_bad_number_names_line() {
    let e = err(
        &[
            ("movies.csv", "movieId,title,genres\n1,A (1999),Drama\n"),
            (
                "ratings.csv",
                "userId,movieId,rating,timestamp\n1,1,4,5\n1,1,4,yesterday\n",
            ),
        ],
        "ml-bad-number",
    );
    assert!(
        e.contains("ratings.csv: line 3") && e.contains("timestamp") && e.contains("not a number"),
        "{e}"
    );
}

#[test]
fn nan_timestamp_is_refused() {
    let e = err(
        &[
            ("movies.csv", "movieId,title,genres\n1,A (1999),Drama\n"),
            (
                "ratings.csv",
                "userId,movieId,rating,timestamp\n1,1,4,NaN\n",
            ),
        ],
        "ml-nan",
    );
    assert!(
        e.contains("ratings.csv: line 2") && e.contains("finite"),
        "{e}"
    );
}

#[test]
fn empty_files_are_reported() {
    let e = err(
        &[
            ("movies.csv", ""),
            ("ratings.csv", "userId,movieId,rating,timestamp\n"),
        ],
        "ml-empty",
    );
    assert!(e.contains("movies.csv") && e.contains("empty"), "{e}");
    let e = err(
        &[
            ("movies.csv", "movieId,title,genres\n1,A (1999),Drama\n"),
            ("ratings.csv", "userId,movieId,rating,timestamp\n"),
        ],
        "ml-empty-ratings",
    );
    assert!(e.contains("ratings.csv") && e.contains("empty"), "{e}");
}

#[test]
fn wrong_field_count_and_unknown_item_and_duplicates() {
    let e = err(
        &[
            (
                "movies.csv",
                "movieId,title,genres\n1,A (1999),Drama\n2;B;Drama\n3,C,D,E\n",
            ),
            ("ratings.csv", "userId,movieId,rating,timestamp\n"),
        ],
        "ml-fields",
    );
    assert!(
        e.contains("movies.csv: line 3") && e.contains("expected 3 fields, found 1"),
        "{e}"
    );
    let e = err(
        &[
            ("movies.csv", "movieId,title,genres\n1,A (1999),Drama\n"),
            (
                "ratings.csv",
                "userId,movieId,rating,timestamp\n1,1,4,5\n1,77,4,6\n",
            ),
        ],
        "ml-unknown",
    );
    assert!(
        e.contains("ratings.csv: line 3") && e.contains("'77' is not in the catalogue"),
        "{e}"
    );
    let e = err(
        &[
            (
                "movies.csv",
                "movieId,title,genres\n1,A (1999),Drama\n1,B (1999),Drama\n",
            ),
            ("ratings.csv", "userId,movieId,rating,timestamp\n1,1,4,5\n"),
        ],
        "ml-dup",
    );
    assert!(
        e.contains("movies.csv: line 3") && e.contains("duplicate item id '1'"),
        "{e}"
    );
}

#[test]
fn non_utf8_is_reported_with_line() {
    let dir = dataset(
        "ml-utf8",
        &[("ratings.csv", "userId,movieId,rating,timestamp\n")],
    );
    std::fs::write(
        dir.join("movies.csv"),
        b"movieId,title,genres\n1,A (1999),Drama\n2,\xff\xfe (1999),Drama\n",
    )
    .unwrap();
    let e = data::load(&dir).unwrap_err().to_string();
    assert!(
        e.contains("movies.csv: line 3") && e.contains("UTF-8"),
        "{e}"
    );
}

#[test]
fn recbole_good_files_with_crlf_and_string_ids() {
    let item = "item_id:token\tmovie_title:token_seq\trelease_year:token\tclass:token_seq\r\n\
        tt-001\tToy Story\t1995\tAnimation Children\r\n\
        tt-002\tHeat\t1995\tAction Crime\r\n";
    let inter = "user_id:token\titem_id:token\trating:float\ttimestamp:float\r\n\
        u1\ttt-002\t4\t20\r\n\
        u1\ttt-001\t5\t10\r\n";
    let dir = dataset("recbole-good", &[("ml.item", item), ("ml.inter", inter)]);
    assert_eq!(
        data::detect(&dir).unwrap(),
        Layout::RecBole { name: "ml".into() }
    );
    let ds = data::load(&dir).unwrap();
    assert_eq!(ds.items[0].id, "tt-001");
    assert_eq!(
        ds.items[0].text,
        "Toy Story. Release year: 1995. Class: Animation Children."
    );
    assert_eq!(ds.interactions.len(), 2);
    assert_eq!(ds.interactions[0].timestamp, 20.0);
    assert_eq!(ds.interactions[0].item, 1);
}

#[test]
fn recbole_broken_files() {
    let inter = "user_id:token\titem_id:token\ttimestamp:float\nu1\tA\t1\n";
    let e = err(
        &[
            ("x.item", "id:token\ttitle:token_seq\nA\tx\n"),
            ("x.inter", inter),
        ],
        "recbole-missing",
    );
    assert!(
        e.contains("x.item") && e.contains("missing column 'item_id'"),
        "{e}"
    );
    let e = err(
        &[
            ("x.item", "item_id:token\ttitle:token_seq\nA\tx\n"),
            (
                "x.inter",
                "user_id:token\titem_id:token\ttimestamp:float\nu1\tA\tsoon\n",
            ),
        ],
        "recbole-bad-ts",
    );
    assert!(
        e.contains("x.inter: line 2") && e.contains("timestamp"),
        "{e}"
    );
}

#[test]
fn csv_pair_good_and_broken() {
    let items = "item_id,name,category\nsku1,Running shoes,Sport\nsku2,Lipstick,Beauty\n";
    let inter = "user,item,timestamp\na,sku1,1\na,sku2,2\n";
    let dir = dataset(
        "pair-good",
        &[("items.csv", items), ("interactions.csv", inter)],
    );
    assert_eq!(data::detect(&dir).unwrap(), Layout::CsvPair);
    let ds = data::load(&dir).unwrap();
    assert_eq!(ds.items[1].text, "Lipstick. Category: Beauty.");
    assert_eq!(ds.items[1].title, "Lipstick");
    assert_eq!(ds.users, vec!["a".to_string()]);
    let e = err(
        &[
            ("items.csv", items),
            ("interactions.csv", "user,item\na,sku1\n"),
        ],
        "pair-missing",
    );
    assert!(
        e.contains("interactions.csv") && e.contains("missing column 'timestamp'"),
        "{e}"
    );
}

#[test]
fn unknown_layout_is_explained() {
    let dir = dataset("nothing", &[("readme.txt", "hi")]);
    let e = data::load(&dir).unwrap_err();
    assert!(matches!(e, DataError::UnknownLayout { .. }));
    assert!(e.to_string().contains("movies.csv + ratings.csv"));
}
