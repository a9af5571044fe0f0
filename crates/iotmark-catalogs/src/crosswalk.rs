//! The mapping graph: every relationship in every bundled mapping collection, walkable in
//! both directions, so `map` can follow a requirement from one framework to another through
//! intermediate ones (EN 303 645 → IR 8259A → IR 8425, say) and say how sure each hop is.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};

use serde::Serialize;

use crate::bundle::{BundledMapping, NS};

/// An OSCAL mapping relationship, read "source R target".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Relationship {
    EquivalentTo,
    EqualTo,
    SubsetOf,
    SupersetOf,
    IntersectsWith,
    NoRelationship,
}

impl Relationship {
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "equivalent-to" => Self::EquivalentTo,
            "equal-to" => Self::EqualTo,
            "subset-of" => Self::SubsetOf,
            "superset-of" => Self::SupersetOf,
            "intersects-with" => Self::IntersectsWith,
            "no-relationship" => Self::NoRelationship,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::EquivalentTo => "equivalent-to",
            Self::EqualTo => "equal-to",
            Self::SubsetOf => "subset-of",
            Self::SupersetOf => "superset-of",
            Self::IntersectsWith => "intersects-with",
            Self::NoRelationship => "no-relationship",
        }
    }

    /// The same relationship read from the target's side.
    pub fn inverse(self) -> Self {
        match self {
            Self::SubsetOf => Self::SupersetOf,
            Self::SupersetOf => Self::SubsetOf,
            other => other,
        }
    }

    /// What "A self B" and "B next C" say about A and C. Equivalence passes the other
    /// relationship through; two subsets (or supersets) chain; anything else only tells us
    /// the two overlap at best.
    pub fn then(self, next: Self) -> Self {
        use Relationship::*;
        match (self, next) {
            (NoRelationship, _) | (_, NoRelationship) => NoRelationship,
            (EqualTo, x) | (x, EqualTo) => x,
            (EquivalentTo, x) | (x, EquivalentTo) => x,
            (SubsetOf, SubsetOf) => SubsetOf,
            (SupersetOf, SupersetOf) => SupersetOf,
            _ => IntersectsWith,
        }
    }
}

impl std::fmt::Display for Relationship {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One stored relationship, as written in a mapping collection.
#[derive(Debug, Clone, Serialize)]
pub struct Edge {
    pub source: String,
    pub source_catalog: String,
    pub target: String,
    pub target_catalog: String,
    pub relationship: Relationship,
    /// `publication` (a publication's own reference column) or `analysis` (ours).
    pub provenance: String,
    pub confidence: Option<String>,
    pub remarks: Option<String>,
    /// The mapping collection (`<source>__<target>`).
    pub collection: String,
}

/// One step of a path, oriented in the direction of travel.
#[derive(Debug, Clone, Serialize)]
pub struct Hop {
    pub from: String,
    pub from_catalog: String,
    pub to: String,
    pub to_catalog: String,
    pub relationship: Relationship,
    /// True when the hop runs against the stored mapping's direction (relationship inverted).
    pub reversed: bool,
    pub provenance: String,
    pub confidence: Option<String>,
    pub remarks: Option<String>,
    pub collection: String,
}

/// A control reached in the target catalog, by the shortest chain of hops.
#[derive(Debug, Clone, Serialize)]
pub struct MappedControl {
    pub id: String,
    pub catalog: String,
    /// The relationship of the start control to this one, composed along the path.
    pub relationship: Relationship,
    pub hops: Vec<Hop>,
}

impl MappedControl {
    /// True when every hop rests on a publication's own references.
    pub fn all_published(&self) -> bool {
        self.hops.iter().all(|h| h.provenance == "publication")
    }
}

#[derive(Debug, Default)]
pub struct Crosswalk {
    edges: Vec<Edge>,
    /// Control ID → indices of edges touching it.
    by_control: HashMap<String, Vec<usize>>,
}

impl Crosswalk {
    pub(crate) fn build(mappings: &[BundledMapping]) -> Self {
        let mut edges = Vec::new();
        for m in mappings {
            for mapping in &m.collection.mappings {
                for map in &mapping.maps {
                    let Some(relationship) = Relationship::parse(&map.relationship) else {
                        continue;
                    };
                    let provenance = map
                        .prop("provenance", Some(NS))
                        .unwrap_or("analysis")
                        .to_owned();
                    let confidence = map
                        .confidence_score
                        .as_ref()
                        .and_then(|c| c.category.clone());
                    for s in &map.sources {
                        for t in &map.targets {
                            edges.push(Edge {
                                source: s.id_ref.clone(),
                                source_catalog: m.source_catalog.clone(),
                                target: t.id_ref.clone(),
                                target_catalog: m.target_catalog.clone(),
                                relationship,
                                provenance: provenance.clone(),
                                confidence: confidence.clone(),
                                remarks: map.remarks.clone(),
                                collection: m.key.clone(),
                            });
                        }
                    }
                }
            }
        }
        let mut by_control: HashMap<String, Vec<usize>> = HashMap::new();
        for (i, e) in edges.iter().enumerate() {
            by_control.entry(e.source.clone()).or_default().push(i);
            by_control.entry(e.target.clone()).or_default().push(i);
        }
        Self { edges, by_control }
    }

    pub fn edges(&self) -> &[Edge] {
        &self.edges
    }

    /// Direct relationships of a control, oriented away from it.
    pub fn neighbours(&self, id: &str) -> Vec<Hop> {
        self.by_control
            .get(id)
            .into_iter()
            .flatten()
            .filter_map(|&i| self.orient(&self.edges[i], id))
            .collect()
    }

    fn orient(&self, e: &Edge, from: &str) -> Option<Hop> {
        let (to, to_catalog, from_catalog, relationship, reversed) = if e.source == from {
            (
                &e.target,
                &e.target_catalog,
                &e.source_catalog,
                e.relationship,
                false,
            )
        } else if e.target == from {
            (
                &e.source,
                &e.source_catalog,
                &e.target_catalog,
                e.relationship.inverse(),
                true,
            )
        } else {
            return None;
        };
        Some(Hop {
            from: from.to_owned(),
            from_catalog: from_catalog.clone(),
            to: to.clone(),
            to_catalog: to_catalog.clone(),
            relationship,
            reversed,
            provenance: e.provenance.clone(),
            confidence: e.confidence.clone(),
            remarks: e.remarks.clone(),
            collection: e.collection.clone(),
        })
    }

    /// Every control of `target_catalog` reachable from `start` in at most `max_hops`
    /// steps, each by a shortest path (breadth first; ties broken by preferring paths that
    /// rest on publications, then fewer reversed hops). `no-relationship` edges are not
    /// followed. Results are ordered by path length, then ID.
    pub fn map(&self, start: &str, target_catalog: &str, max_hops: usize) -> Vec<MappedControl> {
        let mut best: BTreeMap<String, Vec<Hop>> = BTreeMap::new();
        let mut visited: HashSet<String> = HashSet::from([start.to_owned()]);
        let mut queue: VecDeque<(String, Vec<Hop>)> =
            VecDeque::from([(start.to_owned(), Vec::new())]);
        while let Some((at, path)) = queue.pop_front() {
            if path.len() >= max_hops {
                continue;
            }
            let mut next: Vec<Hop> = self
                .neighbours(&at)
                .into_iter()
                .filter(|h| h.relationship != Relationship::NoRelationship)
                .collect();
            next.sort_by_key(|h| (h.provenance != "publication", h.reversed, h.to.clone()));
            let mut expand = Vec::new();
            for hop in next {
                if hop.to == start {
                    continue;
                }
                let mut longer = path.clone();
                longer.push(hop.clone());
                if hop.to_catalog == target_catalog {
                    let better = match best.get(&hop.to) {
                        None => true,
                        Some(existing) => score(&longer) < score(existing),
                    };
                    if better {
                        best.insert(hop.to.clone(), longer);
                    }
                } else if visited.insert(hop.to.clone()) {
                    expand.push((hop.to.clone(), longer));
                }
            }
            queue.extend(expand);
        }
        let mut out: Vec<MappedControl> = best
            .into_iter()
            .map(|(id, hops)| {
                let relationship = hops
                    .iter()
                    .skip(1)
                    .fold(hops[0].relationship, |acc, h| acc.then(h.relationship));
                MappedControl {
                    catalog: target_catalog.to_owned(),
                    id,
                    relationship,
                    hops,
                }
            })
            .collect();
        out.sort_by(|a, b| {
            a.hops
                .len()
                .cmp(&b.hops.len())
                .then_with(|| a.id.cmp(&b.id))
        });
        out
    }
}

fn score(path: &[Hop]) -> (usize, usize, usize) {
    (
        path.len(),
        path.iter()
            .filter(|h| h.provenance != "publication")
            .count(),
        path.iter().filter(|h| h.reversed).count(),
    )
}

#[cfg(test)]
mod tests {
    use super::Relationship::*;

    #[test]
    fn composition_is_conservative() {
        assert_eq!(EquivalentTo.then(SubsetOf), SubsetOf);
        assert_eq!(SubsetOf.then(SubsetOf), SubsetOf);
        assert_eq!(SubsetOf.then(SupersetOf), IntersectsWith);
        assert_eq!(IntersectsWith.then(EquivalentTo), IntersectsWith);
        assert_eq!(SubsetOf.inverse(), SupersetOf);
    }
}
