//! k-core filtering and the leave-one-out split, checked by hand.

use crate::support;

use tiger_core::data::{self, Dataset, Interaction, Item, split::k_core};

fn ds(events: &[(u32, u32, f64)], users: usize, items: usize) -> Dataset {
    Dataset {
        items: (0..items)
            .map(|i| Item {
                id: i.to_string(),
                title: i.to_string(),
                text: String::new(),
            })
            .collect(),
        users: (0..users).map(|u| u.to_string()).collect(),
        interactions: events
            .iter()
            .map(|&(user, item, timestamp)| Interaction {
                user,
                item,
                timestamp,
            })
            .collect(),
        ..Default::default()
    }
}

#[test]
fn k_core_is_iterative() {
    // k = 2. User 2 has one event → dropped; then item 2 has only one event left → dropped;
    // then user 1 has one event left → dropped; items 0 and 1 keep two users each.
    let d = ds(
        &[
            (0, 0, 1.0),
            (0, 1, 2.0),
            (1, 0, 1.0),
            (1, 2, 2.0),
            (2, 2, 1.0),
            (3, 0, 1.0),
            (3, 1, 2.0),
        ],
        4,
        3,
    );
    let keep = k_core(&d, 2);
    assert_eq!(keep, vec![true, true, false, false, false, true, true]);
}

#[test]
fn leave_one_out_with_stable_ties() {
    // User 0: timestamps 5, 1, 1, 3 in file order → order by time, ties in file order:
    // items 1 (t1), 2 (t1), 3 (t3), 0 (t5) → train [1, 2], valid 3, test 0.
    let d = ds(
        &[
            (0, 0, 5.0),
            (0, 1, 1.0),
            (0, 2, 1.0),
            (0, 3, 3.0),
            (1, 0, 1.0),
            (1, 1, 2.0),
        ],
        2,
        4,
    );
    let s = data::split(&d, 1).unwrap();
    assert_eq!(s.users.len(), 1, "user 1 has only 2 items: dropped");
    let u = &s.users[0];
    assert_eq!((u.train.clone(), u.valid, u.test), (vec![1, 2], 3, 0));
    assert_eq!(s.interactions, 6);
}

#[test]
fn tiny_movielens_split_keeps_file_order_among_ties() {
    let d = data::load(&support::tiny_movielens("split-ml")).unwrap();
    let s = data::split(&d, 5).unwrap();
    // Movie 6 has one rating → filtered; each user rated 1..5 with timestamps
    // 1001,1002,1003,1004,1004.
    assert_eq!(s.users.len(), 6);
    assert_eq!(s.items, 5);
    let u = &s.users[0];
    assert_eq!(u.train, vec![0, 1, 2]);
    assert_eq!((u.valid, u.test), (3, 4));
}

#[test]
fn nothing_left_is_an_error() {
    let d = ds(&[(0, 0, 1.0)], 1, 1);
    let e = data::split(&d, 5).unwrap_err().to_string();
    assert!(e.contains("5-core"), "{e}");
}
