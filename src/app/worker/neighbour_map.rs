//! The t-SNE map of the loaded embeddings ([`tiger_models::embed::tsne`]), computed on a thread of
//! its own (CPU only, no tensors) so that the worker stays free, and kept per embeddings
//! ([`tiger_core::embeddings::map_file`]): read from beside the dataset or from the cache folder
//! when there, else computed and written to the cache folder.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::SyncSender;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tiger_core::embeddings::Embeddings;
use tiger_core::embeddings::map_file::{cache_dir, read_map, tsne_file_name, write_map};

use crate::app::protocol::Event;

/// Least time between two progress events.
const PROGRESS_EVERY: Duration = Duration::from_millis(250);

/// What the map thread needs of the worker: its event channel and the UI's repaint.
pub(super) struct Outlet {
    pub(super) events: SyncSender<Event>,
    pub(super) repaint: Arc<Mutex<Box<dyn Fn() + Send>>>,
}

impl Outlet {
    fn send(&self, event: Event) {
        let _ = self.events.send(event);
        if let Ok(repaint) = self.repaint.lock() {
            repaint();
        }
    }
}

/// Starts the map of `emb` (the embeddings of the dataset in `dataset_dir`) on a new thread; it
/// sends [`Event::NeighbourMapProgress`] while it computes and [`Event::NeighbourMap`] at the end,
/// and stops early when `cancel` is raised (another dataset was loaded, or the window closed).
pub(super) fn start(
    emb: Arc<Embeddings>,
    dataset_dir: PathBuf,
    cancel: Arc<AtomicBool>,
    out: Outlet,
) {
    let spawned = std::thread::Builder::new()
        .name("tiger-map".into())
        .spawn(move || {
            let name = tsne_file_name(&emb);
            let shipped = dataset_dir.join(&name);
            let cached = cache_dir().map(|d| d.join(&name));
            let stored = [Some(shipped), cached.clone()]
                .into_iter()
                .flatten()
                .find_map(|p| read_map(&p, emb.rows));
            if let Some(points) = stored {
                out.send(Event::NeighbourMap(points));
                return;
            }
            let mut last = Instant::now();
            let points = tiger_models::embed::tsne::project_2d(
                &emb,
                tiger_models::embed::tsne::SEED,
                &cancel,
                &mut |done, total| {
                    if done == 1 || last.elapsed() >= PROGRESS_EVERY {
                        last = Instant::now();
                        out.send(Event::NeighbourMapProgress { done, total });
                    }
                },
            );
            if let Some(points) = points.filter(|_| !cancel.load(Ordering::Relaxed)) {
                // A map that cannot be kept is computed again next time.
                if let Some(path) = &cached {
                    let _ = write_map(path, &points);
                }
                out.send(Event::NeighbourMap(points));
            }
        });
    if let Err(e) = spawned {
        eprintln!("the t-SNE map could not start: {e}");
    }
}
