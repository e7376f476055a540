//! Choosing the compute device: burn-wgpu on the GPU (the product path) or the flex CPU backend.

use burn::prelude::*;

use tiger_core::device_choice::DeviceChoice;

/// A device together with a human-readable description for status lines.
#[derive(Debug, Clone)]
pub struct ChosenDevice {
    /// The burn device (without autodiff).
    pub device: Device,
    /// What it is, e.g. `wgpu: NVIDIA H200` or `cpu (flex)`.
    pub description: String,
    /// Set when the GPU was asked for but the CPU is used, with the reason.
    pub fallback: Option<String>,
}

/// One graphics adapter wgpu finds on this machine.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Adapter {
    /// Its name, e.g. `NVIDIA H100 80GB HBM3` or `llvmpipe (LLVM 15.0.6, 256 bits)`.
    pub name: String,
    /// Graphics API (Vulkan, Metal, Dx12, Gl).
    pub backend: String,
    /// What wgpu says it is (DiscreteGpu, IntegratedGpu, VirtualGpu, Cpu, Other).
    pub device_type: String,
    /// Driver name and version.
    pub driver: String,
    /// A renderer in software on the CPU (llvmpipe, lavapipe, SwiftShader, WARP): slower for
    /// compute than the CPU backend.
    pub software: bool,
}

/// Every adapter wgpu finds, on every graphics API.
pub fn adapters() -> Vec<Adapter> {
    use burn::tensor::wgpu::wgpu;
    let instance = wgpu::Instance::new(wgpu::InstanceDescriptor {
        backends: wgpu::Backends::all(),
        ..wgpu::InstanceDescriptor::new_without_display_handle()
    });
    pollster::block_on(instance.enumerate_adapters(wgpu::Backends::all()))
        .iter()
        .map(|a| {
            let info = a.get_info();
            let software =
                info.device_type == wgpu::DeviceType::Cpu || is_software_name(&info.name);
            Adapter {
                name: info.name,
                backend: format!("{:?}", info.backend),
                device_type: format!("{:?}", info.device_type),
                driver: format!("{} {}", info.driver, info.driver_info)
                    .trim()
                    .to_string(),
                software,
            }
        })
        .collect()
}

/// Whether an adapter's name is one of the known software renderers.
fn is_software_name(name: &str) -> bool {
    let name = name.to_lowercase();
    [
        "llvmpipe",
        "lavapipe",
        "swiftshader",
        "microsoft basic render",
        "warp",
        "softpipe",
    ]
    .iter()
    .any(|s| name.contains(s))
}

/// What a choice comes to on a machine with `adapters`: the GPU or the CPU backend, and why when
/// [`DeviceChoice::Auto`] picks the CPU.
pub fn resolve(choice: DeviceChoice, adapters: &[Adapter]) -> (DeviceChoice, Option<String>) {
    match choice {
        DeviceChoice::Auto => {
            if adapters.iter().any(|a| !a.software) {
                (DeviceChoice::Gpu, None)
            } else if let Some(soft) = adapters.first() {
                (
                    DeviceChoice::Cpu,
                    Some(format!(
                        "only a software GPU adapter ({}) was found, so the CPU backend computes (it is faster); --device gpu forces the adapter",
                        soft.name
                    )),
                )
            } else {
                (
                    DeviceChoice::Cpu,
                    Some("no GPU adapter was found, so the CPU backend computes".into()),
                )
            }
        }
        other => (other, None),
    }
}

/// Initialises the requested device. [`DeviceChoice::Auto`] takes a hardware GPU when there is
/// one, else the CPU backend (with the reason in [`ChosenDevice::fallback`]); with
/// [`DeviceChoice::Gpu`] and no usable adapter it falls back to the CPU too. Call once per process:
/// burn-wgpu can be initialised only once.
pub fn choose(choice: DeviceChoice) -> ChosenDevice {
    let (resolved, why) = resolve_here(choice);
    match resolved {
        DeviceChoice::Gpu => match gpu_init().init() {
            Ok(device) => {
                let name = device
                    .identity()
                    .map(|i| i.name.to_string())
                    .unwrap_or_else(|| "default adapter".into());
                ChosenDevice {
                    device,
                    description: format!("gpu (burn-wgpu: {name})"),
                    fallback: None,
                }
            }
            Err(e) => cpu(Some(format!(
                "no usable GPU adapter ({e}); using the CPU backend"
            ))),
        },
        _ => cpu(why),
    }
}

/// [`resolve`] on this machine's adapters (enumerated only for [`DeviceChoice::Auto`]).
fn resolve_here(choice: DeviceChoice) -> (DeviceChoice, Option<String>) {
    match choice {
        DeviceChoice::Auto => resolve(choice, &adapters()),
        other => (other, None),
    }
}

/// The GPU handles burn runs on, for the window to render with (one device, one driver context).
pub type SharedGpu = burn::tensor::wgpu::WgpuSetup;

/// [`choose`] for a command line: says on stderr when the GPU was asked for but the CPU backend
/// computes (a warning), or which device the automatic choice took and why (a note).
pub fn choose_reporting(choice: DeviceChoice) -> ChosenDevice {
    let chosen = choose(choice);
    if let Some(why) = &chosen.fallback {
        let level = if choice == DeviceChoice::Auto {
            "note"
        } else {
            "warning"
        };
        eprintln!("{level}: {why}");
    }
    chosen
}

/// Like [`choose`], but on the GPU also returns burn's wgpu instance, adapter, device and queue so
/// the window can draw on the same device (`egui_wgpu::WgpuSetup::Existing`). The setup is `None`
/// on the CPU or after a fallback.
pub fn choose_shared(choice: DeviceChoice) -> (ChosenDevice, Option<SharedGpu>) {
    let (resolved, why) = resolve_here(choice);
    match resolved {
        DeviceChoice::Cpu | DeviceChoice::Auto => (cpu(why), None),
        DeviceChoice::Gpu => match gpu_init().init_with_setup() {
            Ok((device, setup)) => {
                let name = setup.adapter.get_info().name;
                (
                    ChosenDevice {
                        device,
                        description: format!("gpu (burn-wgpu: {name}; shared with the window)"),
                        fallback: None,
                    },
                    Some(setup),
                )
            }
            Err(e) => (
                cpu(Some(format!(
                    "no usable GPU adapter ({e}); using the CPU backend"
                ))),
                None,
            ),
        },
    }
}

/// burn-wgpu's device builder, after placing the autotune cache ([`crate::gpu_cache`]) so that a
/// second launch reuses the first one's kernel choices.
fn gpu_init() -> burn::tensor::wgpu::WgpuOptions {
    crate::gpu_cache::configure(&crate::gpu_cache::CacheLocation::from_env());
    Device::wgpu_options()
}

/// Whether `device` (with or without autodiff) is burn's cube backend, i.e. burn-wgpu on a GPU.
pub fn is_gpu(device: &Device) -> bool {
    matches!(
        device.clone().inner().as_dispatch(),
        burn::backend::DispatchDevice::Cube(_)
    )
}

/// Makes burn's default device the flex CPU backend, unless `BURN_DEVICE` names one. burn creates a
/// loaded optimiser state on its default device (`ModuleOptimizer::load`) before the first step
/// moves it to the training device; left alone that default is burn-wgpu, so resuming on the CPU
/// would start the GPU driver, and stop on an error where there is no adapter. Every tensor the
/// program computes with is made on a device it chose, so nothing else depends on the default.
///
/// # Safety
///
/// Sets an environment variable: call it before the process starts a thread.
pub unsafe fn make_cpu_the_default() {
    if std::env::var_os("BURN_DEVICE").is_none() {
        // SAFETY: the caller guarantees no other thread exists yet.
        unsafe { std::env::set_var("BURN_DEVICE", "flex") };
    }
}

/// The status of a training loop's first steps: on the GPU they compile and tune kernels (once per
/// machine: later launches reuse the autotune cache), which a user should know while waiting.
pub fn first_steps_phase(device: &Device) -> String {
    if !is_gpu(device) {
        return "training".into();
    }
    let cold = crate::gpu_cache::is_cold(&crate::gpu_cache::CacheLocation::from_env());
    gpu_phase(cold)
}

/// The GPU's first-steps status. A cold launch (no autotune results yet) compiles and benchmarks
/// every candidate kernel: a first step of 12–16 s on an H200 with the current kernels, longer on
/// slower machines, against 1–2 s once the results are cached (docs/performance.md).
fn gpu_phase(cold: bool) -> String {
    if cold {
        "training (first launch on this machine: the first steps compile and tune every GPU \
         kernel, which can take a few minutes; later launches reuse the results)"
            .into()
    } else {
        "training (the first steps compile and tune GPU kernels; later launches reuse them)".into()
    }
}

/// The flex CPU device.
fn cpu(fallback: Option<String>) -> ChosenDevice {
    ChosenDevice {
        device: Device::flex(),
        description: "cpu (burn flex)".into(),
        fallback,
    }
}

/// Turns the message of a panic raised inside the compute backend into one sentence a user can act
/// on: out of device memory and a lost device get their own advice, anything else is reported as an
/// internal error. Checkpoints are swapped in whole, so the last one written stays loadable.
pub fn backend_failure(panic_message: &str) -> String {
    const OOM: [&str; 6] = [
        "out of memory",
        "outofmemory",
        "out_of_memory",
        "failed to allocate",
        "can't allocate",
        "out of device memory",
    ];
    const LOST: [&str; 3] = ["device lost", "devicelost", "device is lost"];
    // Backend errors are chains ("… Caused by: … Caused by: can't allocate …") with backtrace
    // notes; the user gets the one line that says what happened.
    let lines: Vec<&str> = panic_message
        .lines()
        .map(str::trim)
        .filter(|l| {
            let l = l.to_lowercase();
            !l.is_empty()
                && !l.starts_with("caused by")
                && !l.contains("backtrace")
                && !l.starts_with("asked at")
        })
        .collect();
    let has = |line: &str, keys: &[&str]| {
        let lower = line.to_lowercase();
        keys.iter().any(|k| lower.contains(k))
    };
    let pick = |keys: &[&str]| lines.iter().find(|l| has(l, keys)).copied();
    let short = |line: &str| {
        let cut: String = line.chars().take(300).collect();
        if cut.len() < line.len() {
            format!("{cut}…")
        } else {
            cut
        }
    };
    if let Some(line) = pick(&OOM) {
        format!(
            "the GPU ran out of memory ({}); lower --batch-size or the model size, or use \
             --device cpu; checkpoints written before this are intact",
            short(line)
        )
    } else if let Some(line) = pick(&LOST) {
        format!(
            "the GPU device was lost ({}); restart the app (a driver reset or another process may \
             have taken the GPU); checkpoints written before this are intact",
            short(line)
        )
    } else {
        format!(
            "the job stopped on an internal error ({}); checkpoints written before this are intact",
            short(lines.first().copied().unwrap_or("no message"))
        )
    }
}

/// The text of a caught panic payload.
pub fn panic_text(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_else(|| "unknown panic".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_cube_backend_counts_as_gpu() {
        assert!(!is_gpu(&Device::flex()));
        assert!(!is_gpu(&Device::flex().autodiff()));
        assert_eq!(first_steps_phase(&Device::flex()), "training");
        assert!(gpu_phase(true).contains("first launch on this machine"));
        assert!(!gpu_phase(false).contains("first launch on this machine"));
    }

    #[test]
    fn auto_never_computes_on_a_software_adapter() {
        let adapter = |name: &str, device_type: &str| Adapter {
            name: name.into(),
            backend: "Vulkan".into(),
            device_type: device_type.into(),
            driver: String::new(),
            software: device_type == "Cpu" || is_software_name(name),
        };
        let lavapipe = adapter("llvmpipe (LLVM 15.0.6, 256 bits)", "Cpu");
        let (d, why) = resolve(DeviceChoice::Auto, std::slice::from_ref(&lavapipe));
        assert_eq!(d, DeviceChoice::Cpu);
        assert!(why.unwrap().contains("software GPU adapter (llvmpipe"));
        let (d, why) = resolve(DeviceChoice::Auto, &[]);
        assert_eq!(d, DeviceChoice::Cpu);
        assert!(why.unwrap().contains("no GPU adapter"));
        let h100 = adapter("NVIDIA H100 80GB HBM3", "DiscreteGpu");
        assert_eq!(
            resolve(DeviceChoice::Auto, &[lavapipe.clone(), h100]),
            (DeviceChoice::Gpu, None)
        );
        // A software renderer reported as another type is still recognised by its name.
        assert!(adapter("SwiftShader Device (Subzero)", "Other").software);
        assert_eq!(
            resolve(DeviceChoice::Gpu, &[lavapipe]),
            (DeviceChoice::Gpu, None)
        );
        assert_eq!(resolve(DeviceChoice::Cpu, &[]), (DeviceChoice::Cpu, None));
    }

    #[test]
    fn backend_failures_are_named_and_shortened() {
        let oom = backend_failure(
            "Error while reading data\nCaused by:\n  An IO error happened\nCaused by:\n  \
             can't allocate buffer of size: 4294967296\nNo backtrace available",
        );
        assert!(
            oom.starts_with(
                "the GPU ran out of memory (can't allocate buffer of size: 4294967296)"
            ),
            "{oom}"
        );
        assert!(oom.contains("--batch-size"));
        let lost = backend_failure("Parent device is lost");
        assert!(lost.starts_with("the GPU device was lost"), "{lost}");
        let other = backend_failure(&"x".repeat(5000));
        assert!(other.starts_with("the job stopped on an internal error"));
        assert!(other.len() < 600, "{}", other.len());
    }
}
