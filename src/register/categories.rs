//! Data categories are hierarchical with dots: a declared `identity` covers an observed
//! `identity.birth_date`, but not `identity_card` (the dot is the boundary, not the prefix).

pub fn is_covered(observed: &str, declared: &[String]) -> bool {
    declared.iter().any(|parent| {
        observed == parent
            || (observed.len() > parent.len()
                && observed.starts_with(parent.as_str())
                && observed.as_bytes()[parent.len()] == b'.')
    })
}

#[cfg(test)]
mod tests {
    use super::is_covered;

    fn declared(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn a_parent_covers_its_children_only() {
        let d = declared(&["followup", "identity"]);
        assert!(is_covered("followup", &d));
        assert!(is_covered("followup.penal", &d));
        assert!(is_covered("identity.birth.date", &d));
        assert!(!is_covered("followups", &d));
        assert!(!is_covered("follow", &d));
        assert!(!is_covered("nir", &d));
    }

    #[test]
    fn a_child_does_not_cover_its_parent() {
        assert!(!is_covered("followup", &declared(&["followup.penal"])));
        assert!(!is_covered("anything", &declared(&[])));
    }
}
