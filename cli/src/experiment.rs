//! `--experiment new` on MLflow: an experiment of the run's own, created when the run starts, so
//! that the read-back counts this run's traces and no one else's (MLflow counts per experiment).

use scenario_runtime::engine::plan::RunPlan;
use scenario_runtime::engine::verify::{ReadOptions, create_mlflow_experiment};
use scenario_runtime::platform::PlatformId;

/// The `--experiment` value that asks for a new experiment.
pub const NEW: &str = "new";

/// Creates the experiment `name` when `plan` asks for one (`--experiment new`), and returns the
/// plan writing to it; any other plan comes back as it was.
pub async fn own(plan: RunPlan, name: &str) -> Result<RunPlan, String> {
    let wants_new = plan.target.platform == PlatformId::Mlflow
        && plan.target.settings.experiment_id.as_deref() == Some(NEW);
    if !wants_new {
        return Ok(plan);
    }
    let id = create_mlflow_experiment(&plan.target.settings, &ReadOptions::default(), name)
        .await
        .map_err(|e| format!("cannot create the MLflow experiment `{name}`: {e}"))?;
    eprintln!("MLflow experiment `{name}` created, id {id}");
    plan.with_mlflow_experiment(&id)
        .ok_or_else(|| format!("MLflow experiment {id} was created but the run cannot use it"))
}

/// A name no earlier run has: `scaletest-<label>-<Unix ms>`.
pub fn unique_name(label: &str) -> String {
    let ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis());
    format!("scaletest-{label}-{ms}")
}
