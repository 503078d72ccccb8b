//! Grouping runs by setting, and the figures, comparisons and selections over each group's seeds.

use std::collections::BTreeMap;

use super::load::LoadedRun;
use super::records::{curve, final_record, images_per_second, last_train, measured_kinetic, stat, val_selected};
use super::report::{Comparison, Group, ModuleDifference, ModuleStats, Report, Selection};
use crate::report::summary::ModuleSummary;

/// Fields that do not make a setting: the seed, and where the output went.
fn is_setting(key: &str) -> bool {
    key != "seed" && !key.starts_with("output.")
}

/// Parses `field=value` as `--set` does, into the flattened form of a config value.
pub fn flat_value(value: &str) -> String {
    crate::sweep::spec::toml_json(&crate::config::parse_value(value)).to_string()
}

/// Runs that share a setting: its fields, the varying ones with their values here, a label from those
/// (`field=value, …`, or "all runs" when nothing varies) and the indices of its runs.
pub struct SettingGroup {
    pub key: BTreeMap<String, String>,
    pub settings: BTreeMap<String, String>,
    pub label: String,
    pub members: Vec<usize>,
}

/// Groups runs (their flattened configs, in order) by setting, groups in order of first appearance; also
/// the fields that vary between groups. `trgl report` and `trgl analyze --out` group alike through this.
pub fn group_by_setting<'a>(flats: impl Iterator<Item = &'a BTreeMap<String, String>>) -> (Vec<SettingGroup>, Vec<String>) {
    let mut groups: Vec<SettingGroup> = Vec::new();
    for (i, flat) in flats.enumerate() {
        let key: BTreeMap<String, String> = flat.iter().filter(|(k, _)| is_setting(k)).map(|(k, v)| (k.clone(), v.clone())).collect();
        match groups.iter_mut().find(|g| g.key == key) {
            Some(g) => g.members.push(i),
            None => groups.push(SettingGroup { key, settings: BTreeMap::new(), label: String::new(), members: vec![i] }),
        }
    }
    let varying: Vec<String> = {
        let mut keys: Vec<String> = groups.iter().flat_map(|g| g.key.keys().cloned()).collect();
        keys.sort();
        keys.dedup();
        keys.into_iter().filter(|k| groups.iter().any(|g| g.key.get(k) != groups[0].key.get(k))).collect()
    };
    for g in &mut groups {
        g.settings = varying.iter().map(|k| (k.clone(), g.key.get(k).cloned().unwrap_or_else(|| "(absent)".into()))).collect();
        g.label = if varying.is_empty() { "all runs".into() } else { g.settings.iter().map(|(k, v)| format!("{k}={}", v.trim_matches('"'))).collect::<Vec<_>>().join(", ") };
    }
    (groups, varying)
}

/// Groups `runs` and computes every figure; `compare` = (field, baseline value) for the paired
/// differences (default: `method.tau = inf` where the runs vary τ and hold VanGL).
pub fn build(runs: &[LoadedRun], skipped: Vec<String>, compare: Option<(&str, &str)>) -> Report {
    let (settings, varying) = group_by_setting(runs.iter().map(|r| &r.flat));
    let mut groups: Vec<Group> = settings
        .into_iter()
        .map(|s| Group {
            label: s.label,
            settings: s.settings,
            runs: Vec::new(),
            seeds: Vec::new(),
            modules: Vec::new(),
            seconds: None,
            peak_alloc_bytes: None,
            peak_rss_bytes: None,
            images_per_second: None,
            test_acc_curves: Vec::new(),
            kinetic_curves: Vec::new(),
            key: s.key,
            members: s.members,
        })
        .collect();
    for g in &mut groups {
        let members: Vec<&LoadedRun> = g.members.iter().map(|&i| &runs[i]).collect();
        g.runs = members.iter().map(|r| r.name.clone()).collect();
        g.seeds = members.iter().map(|r| r.config.seed).collect();
        let k = members.iter().map(|r| r.summary.modules.len()).max().unwrap_or(0);
        g.modules = (1..=k)
            .map(|m| {
                let module = |r: &&LoadedRun| r.summary.modules.get(m - 1).cloned();
                let last = |r: &&LoadedRun| last_train(&r.records, m).cloned();
                ModuleStats {
                    module: m,
                    final_acc: stat(members.iter().map(|r| module(r).and_then(|s| s.final_acc))),
                    best_acc: stat(members.iter().map(|r| module(r).and_then(|s| s.best_acc))),
                    train_acc: stat(members.iter().map(|r| last(r).map(|l| l.train_acc))),
                    gap: stat(members.iter().map(|r| Some(last(r)?.train_acc - module(r)?.final_acc?))),
                    kinetic_energy: stat(members.iter().map(|r| last(r).as_ref().and_then(measured_kinetic))),
                    final_val_acc: stat(members.iter().map(|r| final_record(&r.records, m).and_then(|f| f.val_acc))),
                    val_selected_test_acc: stat(members.iter().map(|r| val_selected(&r.records, m))),
                }
            })
            .collect();
        g.seconds = stat(members.iter().map(|r| Some(r.summary.seconds)));
        g.peak_alloc_bytes = stat(members.iter().map(|r| r.summary.peak_alloc_bytes.map(|b| b as f64)));
        g.peak_rss_bytes = stat(members.iter().map(|r| r.summary.peak_rss_bytes.map(|b| b as f64)));
        g.images_per_second = stat(members.iter().map(|r| images_per_second(r)));
        g.test_acc_curves = (1..=k).map(|m| curve(&members, m, |r| r.test_acc)).collect();
        g.kinetic_curves = (1..=k).map(|m| curve(&members, m, measured_kinetic)).collect();
    }
    let default_compare = varying.iter().any(|k| k == "method.tau") && groups.iter().any(|g| g.key.get("method.tau").map(String::as_str) == Some("\"inf\""));
    let compare: Option<(String, String)> = match compare {
        Some((f, v)) => Some((f.to_string(), flat_value(v))),
        None if default_compare => Some(("method.tau".into(), "\"inf\"".into())),
        None => None,
    };
    let comparisons = compare.map(|(field, base)| comparisons(runs, &groups, &field, &base)).unwrap_or_default();
    let selections = if varying.iter().any(|k| k == "method.tau") { select_on_val(&groups, "method.tau") } else { Vec::new() };
    Report { groups, comparisons, selections, skipped }
}

/// For each family of groups equal but in `field`, the member with the best mean final validation
/// accuracy at the last module (families without validation figures are left out).
pub fn select_on_val(groups: &[Group], field: &str) -> Vec<Selection> {
    let mut families: Vec<(BTreeMap<String, String>, Vec<&Group>)> = Vec::new();
    for g in groups {
        let mut rest = g.key.clone();
        rest.remove(field);
        match families.iter_mut().find(|(k, _)| *k == rest) {
            Some((_, members)) => members.push(g),
            None => families.push((rest, vec![g])),
        }
    }
    let mut out = Vec::new();
    for (_, members) in families.into_iter().filter(|(_, m)| m.len() > 1) {
        let last_val = |g: &Group| g.modules.last().and_then(|m| m.final_val_acc.clone());
        let Some(best) = members.iter().filter(|g| last_val(g).is_some()).max_by(|a, b| last_val(a).unwrap().mean.total_cmp(&last_val(b).unwrap().mean)) else { continue };
        let among: Vec<String> = best.settings.iter().filter(|(k, _)| *k != field).map(|(k, v)| format!("{k}={}", v.trim_matches('"'))).collect();
        out.push(Selection {
            field: field.to_string(),
            among: if among.is_empty() { "all runs".into() } else { among.join(", ") },
            candidates: members.len(),
            chosen: best.key.get(field).map_or("(absent)".into(), |v| v.trim_matches('"').to_string()),
            val_acc: last_val(best).expect("filtered on it"),
            test_acc: best.modules.last().and_then(|m| m.final_acc.clone()),
        });
    }
    out
}

fn comparisons(runs: &[LoadedRun], groups: &[Group], field: &str, base: &str) -> Vec<Comparison> {
    let mut out = Vec::new();
    for g in groups.iter().filter(|g| g.key.get(field).is_some_and(|v| v != base)) {
        let mut wanted = g.key.clone();
        wanted.insert(field.to_string(), base.to_string());
        let Some(b) = groups.iter().find(|b| b.key == wanted) else { continue };
        let by_seed = |grp: &Group| -> BTreeMap<u64, &LoadedRun> { grp.members.iter().map(|&i| (runs[i].config.seed, &runs[i])).collect() };
        let (gs, bs) = (by_seed(g), by_seed(b));
        let seeds: Vec<u64> = gs.keys().filter(|s| bs.contains_key(s)).copied().collect();
        let k = g.modules.len().min(b.modules.len());
        let modules = (0..k)
            .map(|m| {
                let diff = |pick: fn(&ModuleSummary) -> Option<f64>| {
                    stat(seeds.iter().map(|s| Some(pick(gs[s].summary.modules.get(m)?)? - pick(bs[s].summary.modules.get(m)?)?)))
                };
                let final_acc = diff(|s| s.final_acc);
                let verdict = match &final_acc {
                    Some(d) if d.half_width.is_none() => "n = 1".into(),
                    Some(d) if d.low().is_some_and(|l| l > 0.0) => "above 0".into(),
                    Some(d) if d.high().is_some_and(|h| h < 0.0) => "below 0".into(),
                    Some(_) => "inconclusive".into(),
                    None => "no pairs".into(),
                };
                ModuleDifference { module: m + 1, final_acc, best_acc: diff(|s| s.best_acc), verdict }
            })
            .collect();
        out.push(Comparison { field: field.to_string(), group: g.label.clone(), baseline: b.label.clone(), seeds, modules });
    }
    out
}
