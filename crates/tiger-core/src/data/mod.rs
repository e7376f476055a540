//! Loading datasets (MovieLens, RecBole atomic files, items + interactions CSV), building item
//! text, k-core filtering and the leave-one-out split.

pub mod csv_pair;
pub mod dataset;
pub mod error;
pub mod lookup;
pub mod movielens;
pub mod recbole;
pub mod samples;
pub mod split;
pub mod table;
pub mod text;

pub use dataset::{Dataset, Interaction, Item, Layout, detect, load};
pub use error::DataError;
pub use split::{Split, UserSequence, split};
