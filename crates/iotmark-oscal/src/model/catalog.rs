//! The OSCAL catalog model: a set of controls, optionally grouped.

use serde::{Deserialize, Serialize};

use super::control::{Parameter, Part};
use super::metadata::{BackMatter, Link, Metadata, Property};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Catalog {
    pub uuid: String,
    pub metadata: Metadata,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub params: Vec<Parameter>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub controls: Vec<Control>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub groups: Vec<Group>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub back_matter: Option<BackMatter>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Group {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub class: Option<String>,
    pub title: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub params: Vec<Parameter>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub props: Vec<Property>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub links: Vec<Link>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub parts: Vec<Part>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub groups: Vec<Group>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub controls: Vec<Control>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Control {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub class: Option<String>,
    pub title: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub params: Vec<Parameter>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub props: Vec<Property>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub links: Vec<Link>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub parts: Vec<Part>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub controls: Vec<Control>,
}

/// Where a control sits in its catalog: the chain of group and parent-control IDs above it.
#[derive(Debug, Clone, Copy)]
pub struct ControlRef<'a, 'g> {
    pub control: &'a Control,
    /// Enclosing groups, outermost first.
    pub groups: &'g [&'a Group],
    /// The control this one is nested in, if any.
    pub parent: Option<&'a Control>,
}

impl Control {
    /// The first property with this name, ignoring namespaces unless `ns` is given.
    pub fn prop(&self, name: &str, ns: Option<&str>) -> Option<&str> {
        find_prop(&self.props, name, ns)
    }

    /// Every value of the properties with this name.
    pub fn props_named<'a>(
        &'a self,
        name: &'a str,
        ns: Option<&'a str>,
    ) -> impl Iterator<Item = &'a str> + 'a {
        self.props
            .iter()
            .filter(move |p| p.name == name && (ns.is_none() || p.ns.as_deref() == ns))
            .map(|p| p.value.as_str())
    }

    /// The publication's own numbering (`label` prop), or the ID when there is none. NIST
    /// gives some controls several labels (`zero-padded`, `sp800-53a`); the one without a
    /// class is the canonical one.
    pub fn label(&self) -> &str {
        let labels = || {
            self.props
                .iter()
                .filter(|p| p.name == "label" && p.ns.is_none())
        };
        labels()
            .find(|p| p.class.is_none())
            .or_else(|| labels().next())
            .map_or(&self.id, |p| &p.value)
    }

    /// The prose of the `statement` part, flattened, or an empty string.
    pub fn statement(&self) -> String {
        self.parts
            .iter()
            .filter(|p| p.name == "statement")
            .map(part_text)
            .collect::<Vec<_>>()
            .join(" ")
    }
}

impl Group {
    pub fn prop(&self, name: &str, ns: Option<&str>) -> Option<&str> {
        find_prop(&self.props, name, ns)
    }
}

pub(crate) fn find_prop<'a>(
    props: &'a [Property],
    name: &str,
    ns: Option<&str>,
) -> Option<&'a str> {
    props
        .iter()
        .find(|p| p.name == name && (ns.is_none() || p.ns.as_deref() == ns))
        .map(|p| p.value.as_str())
}

/// All prose of a part and its sub-parts, in document order, separated by spaces.
pub fn part_text(part: &Part) -> String {
    let mut out = String::new();
    if let Some(prose) = &part.prose {
        out.push_str(prose.trim());
    }
    for sub in &part.parts {
        let text = part_text(sub);
        if !text.is_empty() {
            if !out.is_empty() {
                out.push(' ');
            }
            out.push_str(&text);
        }
    }
    out
}

impl Catalog {
    /// Visits every control, depth first in document order, with its position.
    pub fn walk<'a>(&'a self, mut visit: impl FnMut(ControlRef<'a, '_>)) {
        fn controls<'a>(
            list: &'a [Control],
            groups: &[&'a Group],
            parent: Option<&'a Control>,
            visit: &mut dyn FnMut(ControlRef<'a, '_>),
        ) {
            for control in list {
                visit(ControlRef {
                    control,
                    groups,
                    parent,
                });
                controls(&control.controls, groups, Some(control), visit);
            }
        }
        fn groups_rec<'a>(
            list: &'a [Group],
            stack: &mut Vec<&'a Group>,
            visit: &mut dyn FnMut(ControlRef<'a, '_>),
        ) {
            for group in list {
                stack.push(group);
                controls(&group.controls, stack, None, visit);
                groups_rec(&group.groups, stack, visit);
                stack.pop();
            }
        }
        controls(&self.controls, &[], None, &mut visit);
        groups_rec(&self.groups, &mut Vec::new(), &mut visit);
    }

    /// Every control in document order.
    pub fn controls(&self) -> Vec<&Control> {
        let mut out = Vec::new();
        self.walk(|r| out.push(r.control));
        out
    }

    /// The control with this ID, anywhere in the catalog.
    pub fn control(&self, id: &str) -> Option<&Control> {
        let mut found = None;
        self.walk(|r| {
            if found.is_none() && r.control.id == id {
                found = Some(r.control);
            }
        });
        found
    }

    /// Every group, depth first.
    pub fn groups(&self) -> Vec<&Group> {
        fn rec<'a>(list: &'a [Group], out: &mut Vec<&'a Group>) {
            for g in list {
                out.push(g);
                rec(&g.groups, out);
            }
        }
        let mut out = Vec::new();
        rec(&self.groups, &mut out);
        out
    }
}
