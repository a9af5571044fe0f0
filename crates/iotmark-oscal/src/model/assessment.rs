//! The OSCAL assessment plan and assessment results models, with the `assessment-common`
//! module they share (controls reviewed, subjects, tasks, observations, findings, risks) and
//! the `implementation-common` pieces they use (system components, inventory items, users).

use serde::{Deserialize, Serialize};

use super::component::Protocol;
use super::control::{IncludeAll, Part};
use super::metadata::{BackMatter, Link, Metadata, Property, ResponsibleParty, ResponsibleRole};

// ---------------------------------------------------------------------------------------------
// Assessment plan
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct AssessmentPlan {
    pub uuid: String,
    pub metadata: Metadata,
    pub import_ssp: ImportSsp,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub local_definitions: Option<LocalDefinitions>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub terms_and_conditions: Option<TermsAndConditions>,
    pub reviewed_controls: ReviewedControls,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub assessment_subjects: Vec<AssessmentSubject>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assessment_assets: Option<AssessmentAssets>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tasks: Vec<Task>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub back_matter: Option<BackMatter>,
}

/// The system security plan the assessment plan is for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct ImportSsp {
    pub href: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remarks: Option<String>,
}

/// The assessment plan's `local-definitions`: items not defined in the imported SSP.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct LocalDefinitions {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub components: Vec<SystemComponent>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub inventory_items: Vec<InventoryItem>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub users: Vec<SystemUser>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub objectives_and_methods: Vec<LocalObjective>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub activities: Vec<Activity>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remarks: Option<String>,
}

/// Rules of engagement, disclosures, limitations and so on, as named parts.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct TermsAndConditions {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub parts: Vec<AssessmentPart>,
}

// ---------------------------------------------------------------------------------------------
// Assessment results
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct AssessmentResults {
    pub uuid: String,
    pub metadata: Metadata,
    pub import_ap: ImportAp,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub local_definitions: Option<ResultsLocalDefinitions>,
    pub results: Vec<AssessmentResult>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub back_matter: Option<BackMatter>,
}

/// The assessment plan the results are for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct ImportAp {
    pub href: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remarks: Option<String>,
}

/// The `local-definitions` at the root of assessment results (objectives and activities
/// not in the plan); each result has its own [`ResultLocalDefinitions`] as well.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct ResultsLocalDefinitions {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub objectives_and_methods: Vec<LocalObjective>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub activities: Vec<Activity>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remarks: Option<String>,
}

/// One set of assessment results (`result`): what was reviewed, observed and found.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct AssessmentResult {
    pub uuid: String,
    pub title: String,
    pub description: String,
    pub start: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub props: Vec<Property>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub links: Vec<Link>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub local_definitions: Option<ResultLocalDefinitions>,
    pub reviewed_controls: ReviewedControls,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attestations: Vec<Attestation>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assessment_log: Option<AssessmentLog>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub observations: Vec<Observation>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub risks: Vec<Risk>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub findings: Vec<Finding>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remarks: Option<String>,
}

/// The `local-definitions` of one result: items not defined in the SSP or the plan.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct ResultLocalDefinitions {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub components: Vec<SystemComponent>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub inventory_items: Vec<InventoryItem>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub users: Vec<SystemUser>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assessment_assets: Option<AssessmentAssets>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tasks: Vec<Task>,
}

/// A set of assertions made by the assessor, with the parties responsible for them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Attestation {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub responsible_parties: Vec<ResponsibleParty>,
    pub parts: Vec<AssessmentPart>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct AssessmentLog {
    pub entries: Vec<AssessmentLogEntry>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct AssessmentLogEntry {
    pub uuid: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub start: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub props: Vec<Property>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub links: Vec<Link>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub logged_by: Vec<LoggedBy>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub related_tasks: Vec<RelatedTask>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remarks: Option<String>,
}

// ---------------------------------------------------------------------------------------------
// assessment-common: parts, objectives, activities
// ---------------------------------------------------------------------------------------------

/// A named part of an assessment document (`assessment-part`): terms and conditions,
/// attestations. `name` is open (`asset`, `method`, `objective`, …).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct AssessmentPart {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uuid: Option<String>,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ns: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub class: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub props: Vec<Property>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prose: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub parts: Vec<AssessmentPart>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub links: Vec<Link>,
}

/// Assessment objectives and methods for a control that the catalog does not provide
/// (`local-objective`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct LocalObjective {
    pub control_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub props: Vec<Property>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub links: Vec<Link>,
    pub parts: Vec<Part>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remarks: Option<String>,
}

/// An assessment activity: a series of steps, and the controls it covers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Activity {
    pub uuid: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    pub description: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub props: Vec<Property>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub links: Vec<Link>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub steps: Vec<Step>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub related_controls: Option<ReviewedControls>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub responsible_roles: Vec<ResponsibleRole>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remarks: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Step {
    pub uuid: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    pub description: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub props: Vec<Property>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub links: Vec<Link>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reviewed_controls: Option<ReviewedControls>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub responsible_roles: Vec<ResponsibleRole>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remarks: Option<String>,
}

// ---------------------------------------------------------------------------------------------
// assessment-common: controls and objectives reviewed
// ---------------------------------------------------------------------------------------------

/// The controls and control objectives assessed (`reviewed-controls`; also used as an
/// activity's `related-controls`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct ReviewedControls {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub props: Vec<Property>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub links: Vec<Link>,
    pub control_selections: Vec<ControlSelection>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub control_objective_selections: Vec<ControlObjectiveSelection>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remarks: Option<String>,
}

/// Controls assessed (`control-selections[]`).
///
/// The schema requires exactly one of `include-all` and `include-controls`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct ControlSelection {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub props: Vec<Property>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub links: Vec<Link>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub include_all: Option<IncludeAll>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub include_controls: Vec<SelectAssessedControl>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub exclude_controls: Vec<SelectAssessedControl>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remarks: Option<String>,
}

/// A control, optionally narrowed to some of its statements (assessment-common's
/// `select-control-by-id`, not control-common's pattern-based one).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct SelectAssessedControl {
    pub control_id: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub statement_ids: Vec<String>,
}

/// Control objectives assessed (`control-objective-selections[]`).
///
/// The schema requires exactly one of `include-all` and `include-objectives`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct ControlObjectiveSelection {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub props: Vec<Property>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub links: Vec<Link>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub include_all: Option<IncludeAll>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub include_objectives: Vec<SelectObjectiveById>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub exclude_objectives: Vec<SelectObjectiveById>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remarks: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct SelectObjectiveById {
    pub objective_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remarks: Option<String>,
}

// ---------------------------------------------------------------------------------------------
// assessment-common: subjects and assets
// ---------------------------------------------------------------------------------------------

/// The system elements assessed (`assessment-subject`).
///
/// The schema requires exactly one of `include-all` and `include-subjects`. Unlike OSCAL
/// 1.1, the 1.2.1 JSON schema does not require `type`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct AssessmentSubject {
    /// `component`, `inventory-item`, `location`, `party`, `user` (may be extended).
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub subject_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub props: Vec<Property>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub links: Vec<Link>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub include_all: Option<IncludeAll>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub include_subjects: Vec<SelectSubjectById>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub exclude_subjects: Vec<SelectSubjectById>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remarks: Option<String>,
}

/// One subject by UUID and type (`select-subject-by-id`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct SelectSubjectById {
    pub subject_uuid: String,
    /// `component`, `inventory-item`, `location`, `party`, `user`, `resource` (may be extended).
    #[serde(rename = "type")]
    pub subject_type: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub props: Vec<Property>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub links: Vec<Link>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remarks: Option<String>,
}

/// A reference to a subject of an observation, mitigating factor or required asset
/// (`subject-reference`): like [`SelectSubjectById`], with a title.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct SubjectReference {
    pub subject_uuid: String,
    #[serde(rename = "type")]
    pub subject_type: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub props: Vec<Property>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub links: Vec<Link>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remarks: Option<String>,
}

/// The assessor's tools and platforms (`assessment-assets`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct AssessmentAssets {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub components: Vec<SystemComponent>,
    pub assessment_platforms: Vec<AssessmentPlatform>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct AssessmentPlatform {
    pub uuid: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub props: Vec<Property>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub links: Vec<Link>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub uses_components: Vec<UsesComponent>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remarks: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct UsesComponent {
    pub component_uuid: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub props: Vec<Property>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub links: Vec<Link>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub responsible_parties: Vec<ResponsibleParty>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remarks: Option<String>,
}

// ---------------------------------------------------------------------------------------------
// assessment-common: tasks
// ---------------------------------------------------------------------------------------------

/// A scheduled event or milestone (`task`), possibly with sub-tasks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Task {
    pub uuid: String,
    /// `milestone` or `action` (may be extended).
    #[serde(rename = "type")]
    pub task_type: String,
    pub title: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub props: Vec<Property>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub links: Vec<Link>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timing: Option<Timing>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dependencies: Vec<TaskDependency>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tasks: Vec<Task>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub associated_activities: Vec<AssociatedActivity>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub subjects: Vec<AssessmentSubject>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub responsible_roles: Vec<ResponsibleRole>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remarks: Option<String>,
}

/// When a task happens (`timing`). The schema requires exactly one of the three fields.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Timing {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_date: Option<OnDate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub within_date_range: Option<WithinDateRange>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at_frequency: Option<AtFrequency>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct OnDate {
    pub date: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remarks: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct WithinDateRange {
    pub start: String,
    pub end: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remarks: Option<String>,
}

/// Every `period` `unit`s (`at-frequency`); `period` is a positive integer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct AtFrequency {
    pub period: u64,
    pub unit: TimeUnit,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remarks: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TimeUnit {
    Seconds,
    Minutes,
    Hours,
    Days,
    Months,
    Years,
}

/// A task that must complete before this one (`dependencies[]`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct TaskDependency {
    pub task_uuid: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remarks: Option<String>,
}

/// An activity a task performs, and on which subjects (`associated-activities[]`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct AssociatedActivity {
    pub activity_uuid: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub props: Vec<Property>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub links: Vec<Link>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub responsible_roles: Vec<ResponsibleRole>,
    pub subjects: Vec<AssessmentSubject>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remarks: Option<String>,
}

/// A reference to a task (`related-task`), with the subjects it was performed on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct RelatedTask {
    pub task_uuid: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub props: Vec<Property>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub links: Vec<Link>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub responsible_parties: Vec<ResponsibleParty>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub subjects: Vec<AssessmentSubject>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identified_subject: Option<IdentifiedSubject>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remarks: Option<String>,
}

/// The subjects a subject placeholder resolved to (`identified-subject`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct IdentifiedSubject {
    pub subject_placeholder_uuid: String,
    pub subjects: Vec<AssessmentSubject>,
}

// ---------------------------------------------------------------------------------------------
// assessment-common: observations and findings
// ---------------------------------------------------------------------------------------------

/// Something the assessor saw, and how (`observation`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Observation {
    pub uuid: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    pub description: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub props: Vec<Property>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub links: Vec<Link>,
    /// `EXAMINE`, `INTERVIEW`, `TEST`, `UNKNOWN` (may be extended).
    pub methods: Vec<String>,
    /// `ssp-statement-issue`, `control-objective`, `mitigation`, `finding`, `discovery`,
    /// `historic` (may be extended).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub types: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub origins: Vec<Origin>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub subjects: Vec<SubjectReference>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub relevant_evidence: Vec<Evidence>,
    pub collected: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remarks: Option<String>,
}

/// Evidence supporting an observation (`relevant-evidence[]`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Evidence {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub href: Option<String>,
    pub description: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub props: Vec<Property>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub links: Vec<Link>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remarks: Option<String>,
}

/// Who or what produced an observation, risk, characterization or response (`origin`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Origin {
    pub actors: Vec<OriginActor>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub related_tasks: Vec<RelatedTask>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct OriginActor {
    #[serde(rename = "type")]
    pub actor_type: ActorType,
    /// A tool (component), assessment platform or party UUID, according to `type`.
    pub actor_uuid: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role_id: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub props: Vec<Property>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub links: Vec<Link>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ActorType {
    Tool,
    AssessmentPlatform,
    Party,
}

/// The conclusion about one control statement or objective (`finding`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Finding {
    pub uuid: String,
    pub title: String,
    pub description: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub props: Vec<Property>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub links: Vec<Link>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub origins: Vec<Origin>,
    pub target: FindingTarget,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub implementation_statement_uuid: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub related_observations: Vec<RelatedObservation>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub related_risks: Vec<AssociatedRisk>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remarks: Option<String>,
}

/// What a finding is about and whether it is satisfied (`finding-target`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct FindingTarget {
    #[serde(rename = "type")]
    pub target_type: FindingTargetType,
    /// A statement ID or an objective ID, according to `type`.
    pub target_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub props: Vec<Property>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub links: Vec<Link>,
    pub status: ObjectiveStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub implementation_status: Option<ImplementationStatus>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remarks: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FindingTargetType {
    StatementId,
    ObjectiveId,
}

/// A finding target's `status`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct ObjectiveStatus {
    pub state: ObjectiveState,
    /// `pass`, `fail`, `other` (may be extended).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remarks: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ObjectiveState {
    Satisfied,
    NotSatisfied,
}

/// `implementation-common:implementation-status`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct ImplementationStatus {
    /// `implemented`, `partial`, `planned`, `alternative`, `not-applicable` (may be extended).
    pub state: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remarks: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct RelatedObservation {
    pub observation_uuid: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remarks: Option<String>,
}

/// A risk a finding relates to (`associated-risk`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct AssociatedRisk {
    pub risk_uuid: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remarks: Option<String>,
}

// ---------------------------------------------------------------------------------------------
// assessment-common: risks
// ---------------------------------------------------------------------------------------------

/// An identified risk (`risk`). The schema gives it no `remarks`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Risk {
    pub uuid: String,
    pub title: String,
    pub description: String,
    pub statement: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub props: Vec<Property>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub links: Vec<Link>,
    /// `open`, `investigating`, `remediating`, `deviation-requested`, `deviation-approved`,
    /// `closed` (may be extended).
    pub status: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub origins: Vec<Origin>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub threat_ids: Vec<ThreatId>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub characterizations: Vec<Characterization>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mitigating_factors: Vec<MitigatingFactor>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deadline: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub remediations: Vec<Response>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub risk_log: Option<RiskLog>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub related_observations: Vec<RelatedObservation>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct ThreatId {
    pub system: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub href: Option<String>,
    pub id: String,
}

/// A set of facets describing a risk, with where they came from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Characterization {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub props: Vec<Property>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub links: Vec<Link>,
    pub origin: Origin,
    pub facets: Vec<Facet>,
}

/// One characteristic of a risk, such as a likelihood or a CVSS metric, in a naming `system`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Facet {
    pub name: String,
    pub system: String,
    pub value: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub props: Vec<Property>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub links: Vec<Link>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remarks: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct MitigatingFactor {
    pub uuid: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub implementation_uuid: Option<String>,
    pub description: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub props: Vec<Property>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub links: Vec<Link>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub subjects: Vec<SubjectReference>,
}

/// A remediation or other response to a risk (`response`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Response {
    pub uuid: String,
    /// `recommendation`, `planned`, `completed` (may be extended).
    pub lifecycle: String,
    pub title: String,
    pub description: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub props: Vec<Property>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub links: Vec<Link>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub origins: Vec<Origin>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub required_assets: Vec<RequiredAsset>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tasks: Vec<Task>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remarks: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct RequiredAsset {
    pub uuid: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub subjects: Vec<SubjectReference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    pub description: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub props: Vec<Property>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub links: Vec<Link>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remarks: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct RiskLog {
    pub entries: Vec<RiskLogEntry>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct RiskLogEntry {
    pub uuid: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub start: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub props: Vec<Property>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub links: Vec<Link>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub logged_by: Vec<LoggedBy>,
    /// The risk's new status (same values as [`Risk::status`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_change: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub related_responses: Vec<RelatedResponse>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remarks: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct RelatedResponse {
    pub response_uuid: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub props: Vec<Property>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub links: Vec<Link>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub related_tasks: Vec<RelatedTask>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remarks: Option<String>,
}

/// The party (and optionally role) that made a log entry (`logged-by`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct LoggedBy {
    pub party_uuid: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remarks: Option<String>,
}

// ---------------------------------------------------------------------------------------------
// implementation-common: components, inventory, users
// ---------------------------------------------------------------------------------------------

/// A component of the system or of the assessment's tooling (`system-component`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct SystemComponent {
    pub uuid: String,
    /// `this-system`, `software`, `hardware`, `service`, … (may be extended).
    #[serde(rename = "type")]
    pub component_type: String,
    pub title: String,
    pub description: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purpose: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub props: Vec<Property>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub links: Vec<Link>,
    pub status: SystemComponentStatus,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub responsible_roles: Vec<ResponsibleRole>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub protocols: Vec<Protocol>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remarks: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct SystemComponentStatus {
    pub state: ComponentState,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remarks: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ComponentState {
    UnderDevelopment,
    Operational,
    Disposition,
    Other,
}

/// A single managed asset (`inventory-item`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct InventoryItem {
    pub uuid: String,
    pub description: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub props: Vec<Property>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub links: Vec<Link>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub responsible_parties: Vec<ResponsibleParty>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub implemented_components: Vec<ImplementedComponent>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remarks: Option<String>,
}

/// A component an inventory item implements (`implemented-components[]`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct ImplementedComponent {
    pub component_uuid: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub props: Vec<Property>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub links: Vec<Link>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub responsible_parties: Vec<ResponsibleParty>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remarks: Option<String>,
}

/// A type of system user (`system-user`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct SystemUser {
    pub uuid: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub short_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub props: Vec<Property>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub links: Vec<Link>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub role_ids: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub authorized_privileges: Vec<AuthorizedPrivilege>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remarks: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct AuthorizedPrivilege {
    pub title: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub functions_performed: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const PARTY: &str = "3f2a1b0c-9d8e-4f7a-8b6c-5d4e3f2a1b0c";
    const TOOL: &str = "6a5b4c3d-2e1f-4a0b-9c8d-7e6f5a4b3c2d";
    const DEVICE: &str = "9e8d7c6b-5a4f-4e3d-8c2b-1a0f9e8d7c6b";
    const TASK: &str = "1c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f";
    const ACTIVITY: &str = "2d3e4f5a-6b7c-4d8e-9f0a-1b2c3d4e5f6a";
    const OBSERVATION: &str = "4f5a6b7c-8d9e-4f0a-8b1c-2d3e4f5a6b7c";
    const RISK: &str = "5a6b7c8d-9e0f-4a1b-9c2d-3e4f5a6b7c8d";

    fn metadata() -> serde_json::Value {
        json!({
            "title": "Thermostat assessment",
            "last-modified": "2025-02-01T09:00:00Z",
            "version": "1.0",
            "oscal-version": "1.2.1",
            "parties": [{ "uuid": PARTY, "type": "organization", "name": "Test Lab" }]
        })
    }

    /// Checks that `value` is schema-valid, parses as `T`, and serializes back unchanged.
    fn round_trip<T>(kind: crate::ModelKind, value: &serde_json::Value) -> T
    where
        T: serde::de::DeserializeOwned + Serialize,
    {
        let violations = crate::validate_value(kind, &json!({ kind.root_key(): value }));
        assert!(violations.is_empty(), "{violations:#?}");
        let parsed: T = serde_json::from_value(value.clone()).expect("deserializes");
        assert_eq!(&serde_json::to_value(&parsed).expect("serializes"), value);
        parsed
    }

    #[test]
    fn assessment_plan_round_trips() {
        let value = json!({
            "uuid": "7b8c9d0e-1f2a-4b3c-8d4e-5f6a7b8c9d0e",
            "metadata": metadata(),
            "import-ssp": { "href": "thermostat-ssp.json" },
            "local-definitions": {
                "components": [{
                    "uuid": TOOL,
                    "type": "software",
                    "title": "Port scanner",
                    "description": "Network scanner used by the lab.",
                    "status": { "state": "operational" },
                    "protocols": [{ "name": "ssh", "port-ranges": [{ "start": 22, "end": 22, "transport": "TCP" }] }]
                }],
                "inventory-items": [{
                    "uuid": DEVICE,
                    "description": "Thermostat unit under test, serial 0042.",
                    "implemented-components": [{ "component-uuid": TOOL }]
                }],
                "users": [{
                    "uuid": "8c9d0e1f-2a3b-4c4d-9e5f-6a7b8c9d0e1f",
                    "title": "Installer",
                    "role-ids": ["installer"],
                    "authorized-privileges": [{ "title": "Pairing", "functions-performed": ["pair device"] }]
                }],
                "activities": [{
                    "uuid": ACTIVITY,
                    "title": "Default password check",
                    "description": "Attempt login with common default credentials.",
                    "steps": [{ "uuid": "0e1f2a3b-4c5d-4e6f-8a7b-8c9d0e1f2a3b", "description": "Run the credential list." }],
                    "related-controls": {
                        "control-selections": [{
                            "include-controls": [{ "control-id": "prov-5.1-1", "statement-ids": ["prov-5.1-1_smt"] }]
                        }]
                    }
                }]
            },
            "terms-and-conditions": {
                "parts": [{ "name": "rules-of-engagement", "title": "Rules", "prose": "Lab network only." }]
            },
            "reviewed-controls": {
                "control-selections": [{ "include-all": {}, "exclude-controls": [{ "control-id": "prov-5.13-1" }] }],
                "control-objective-selections": [{ "include-objectives": [{ "objective-id": "prov-5.1-1_obj" }] }]
            },
            "assessment-subjects": [{
                "type": "inventory-item",
                "include-subjects": [{ "subject-uuid": DEVICE, "type": "inventory-item" }]
            }],
            "assessment-assets": {
                "assessment-platforms": [{
                    "uuid": "1f2a3b4c-5d6e-4f7a-9b8c-9d0e1f2a3b4c",
                    "title": "Lab bench",
                    "uses-components": [{ "component-uuid": TOOL }]
                }]
            },
            "tasks": [{
                "uuid": TASK,
                "type": "action",
                "title": "Credential test",
                "timing": { "within-date-range": { "start": "2025-02-03T09:00:00Z", "end": "2025-02-04T17:00:00Z" } },
                "associated-activities": [{ "activity-uuid": ACTIVITY, "subjects": [{ "type": "component", "include-all": {} }] }],
                "tasks": [{
                    "uuid": "3b4c5d6e-7f8a-4b9c-8d0e-1f2a3b4c5d6e",
                    "type": "milestone",
                    "title": "Weekly re-test",
                    "timing": { "at-frequency": { "period": 1, "unit": "days" } },
                    "dependencies": [{ "task-uuid": TASK }]
                }]
            }]
        });
        let plan: AssessmentPlan = round_trip(crate::ModelKind::AssessmentPlan, &value);
        assert!(
            plan.reviewed_controls.control_selections[0]
                .include_all
                .is_some()
        );
        assert_eq!(
            plan.tasks[0].tasks[0]
                .timing
                .as_ref()
                .and_then(|t| t.at_frequency.as_ref())
                .map(|f| f.unit),
            Some(TimeUnit::Days)
        );
    }

    #[test]
    fn assessment_results_round_trip() {
        let origin = json!({
            "actors": [{ "type": "tool", "actor-uuid": TOOL }],
            "related-tasks": [{ "task-uuid": TASK, "subjects": [{ "type": "inventory-item", "include-subjects": [{ "subject-uuid": DEVICE, "type": "inventory-item" }] }] }]
        });
        let value = json!({
            "uuid": "6e7f8a9b-0c1d-4e2f-9a3b-4c5d6e7f8a9b",
            "metadata": metadata(),
            "import-ap": { "href": "thermostat-ap.json" },
            "local-definitions": {
                "objectives-and-methods": [{
                    "control-id": "prov-5.1-1",
                    "parts": [{ "name": "objective", "prose": "Determine that no default password is accepted." }]
                }]
            },
            "results": [{
                "uuid": "7f8a9b0c-1d2e-4f3a-8b4c-5d6e7f8a9b0c",
                "title": "Initial assessment",
                "description": "First lab run.",
                "start": "2025-02-03T09:00:00Z",
                "end": "2025-02-03T16:30:00Z",
                "reviewed-controls": {
                    "control-selections": [{ "include-all": {} }]
                },
                "attestations": [{
                    "responsible-parties": [{ "role-id": "assessor", "party-uuids": [PARTY] }],
                    "parts": [{ "name": "attestation", "prose": "Tested as described." }]
                }],
                "assessment-log": {
                    "entries": [{
                        "uuid": "8a9b0c1d-2e3f-4a4b-9c5d-6e7f8a9b0c1d",
                        "start": "2025-02-03T09:05:00Z",
                        "logged-by": [{ "party-uuid": PARTY, "role-id": "assessor" }],
                        "related-tasks": [{ "task-uuid": TASK }]
                    }]
                },
                "observations": [{
                    "uuid": OBSERVATION,
                    "title": "No default credentials accepted",
                    "description": "All 1000 credentials of the list were rejected.",
                    "methods": ["TEST"],
                    "types": ["control-objective"],
                    "origins": [origin],
                    "subjects": [{ "subject-uuid": DEVICE, "type": "inventory-item", "title": "Unit 0042" }],
                    "relevant-evidence": [{
                        "href": "evidence/credential-scan.log",
                        "description": "Scanner log.",
                        "props": [{ "name": "sha256", "ns": "https://iotmark.example/ns", "value": "ab12" }]
                    }],
                    "collected": "2025-02-03T12:00:00Z"
                }],
                "risks": [{
                    "uuid": RISK,
                    "title": "Weak password policy",
                    "description": "User-set passwords have no minimum length.",
                    "statement": "An attacker could guess a user password.",
                    "status": "open",
                    "threat-ids": [{ "system": "http://fedramp.gov", "id": "https://example.com/threats/T1" }],
                    "characterizations": [{
                        "origin": origin,
                        "facets": [{ "name": "likelihood", "system": "http://csrc.nist.gov/ns/oscal", "value": "low" }]
                    }],
                    "mitigating-factors": [{ "uuid": "9b0c1d2e-3f4a-4b5c-8d6e-7f8a9b0c1d2e", "description": "Rate limiting." }],
                    "remediations": [{
                        "uuid": "0c1d2e3f-4a5b-4c6d-9e7f-8a9b0c1d2e3f",
                        "lifecycle": "recommendation",
                        "title": "Enforce minimum length",
                        "description": "Require 8 characters.",
                        "required-assets": [{ "uuid": "1d2e3f4a-5b6c-4d7e-8f8a-9b0c1d2e3f4a", "description": "Firmware update." }]
                    }],
                    "risk-log": {
                        "entries": [{
                            "uuid": "2e3f4a5b-6c7d-4e8f-9a9b-0c1d2e3f4a5b",
                            "start": "2025-02-03T16:00:00Z",
                            "status-change": "open",
                            "related-responses": [{ "response-uuid": "0c1d2e3f-4a5b-4c6d-9e7f-8a9b0c1d2e3f" }]
                        }]
                    },
                    "related-observations": [{ "observation-uuid": OBSERVATION }]
                }],
                "findings": [{
                    "uuid": "3f4a5b6c-7d8e-4f9a-8b0c-1d2e3f4a5b6c",
                    "title": "prov-5.1-1 satisfied",
                    "description": "No universal default password.",
                    "target": {
                        "type": "objective-id",
                        "target-id": "prov-5.1-1_obj",
                        "status": { "state": "satisfied", "reason": "pass" },
                        "implementation-status": { "state": "implemented" }
                    },
                    "related-observations": [{ "observation-uuid": OBSERVATION }],
                    "related-risks": [{ "risk-uuid": RISK }]
                }]
            }]
        });
        let results: AssessmentResults = round_trip(crate::ModelKind::AssessmentResults, &value);
        let result = &results.results[0];
        assert!(
            result.reviewed_controls.control_selections[0]
                .include_all
                .is_some()
        );
        assert_eq!(
            result.findings[0].target.status.state,
            ObjectiveState::Satisfied
        );
        assert_eq!(
            result.findings[0].target.target_type,
            FindingTargetType::ObjectiveId
        );
        assert_eq!(result.observations[0].methods, ["TEST"]);
        assert_eq!(
            result.observations[0].origins[0].actors[0].actor_type,
            ActorType::Tool
        );
        assert_eq!(
            result.observations[0].relevant_evidence[0].description,
            "Scanner log."
        );
    }

    #[test]
    fn closed_enums_reject_other_values() {
        let status = json!({ "state": "partially-satisfied" });
        assert!(serde_json::from_value::<ObjectiveStatus>(status).is_err());
        let actor = json!({ "type": "robot", "actor-uuid": TOOL });
        assert!(serde_json::from_value::<OriginActor>(actor).is_err());
    }
}
