//! Concurrent calls per subject: a test names subjects (a ticket's id, a session's id: any
//! text found in a request's target), and the fault layer counts, for each, how many matching
//! requests are being handled at once, and the most ever seen. A deployment that runs one step
//! of one job on two processes at once shows up here as a maximum above one.

use std::collections::HashMap;

use super::Faults;

#[derive(Default)]
pub(super) struct InFlight {
    now: HashMap<String, usize>,
    max: HashMap<String, usize>,
}

/// Held while a request is handled; counts it down when dropped (answered or abandoned).
pub(super) struct Entered {
    faults: Faults,
    subjects: Vec<String>,
}

impl Drop for Entered {
    fn drop(&mut self) {
        let mut st = self.faults.lock();
        for s in &self.subjects {
            if let Some(n) = st.in_flight.now.get_mut(s) {
                *n = n.saturating_sub(1);
            }
        }
    }
}

impl Faults {
    /// Count concurrent requests whose target (path and query) contains `subject`.
    pub fn track_in_flight(&self, subject: &str) {
        let mut st = self.lock();
        st.in_flight.now.entry(subject.to_string()).or_insert(0);
        st.in_flight.max.entry(subject.to_string()).or_insert(0);
    }

    /// The most requests about `subject` ever handled at once (0 if none came, or untracked).
    pub fn max_in_flight(&self, subject: &str) -> usize {
        self.lock().in_flight.max.get(subject).copied().unwrap_or(0)
    }

    /// Every tracked subject with its maximum.
    pub fn in_flight_maxima(&self) -> HashMap<String, usize> {
        self.lock().in_flight.max.clone()
    }

    pub(super) fn enter(&self, target: &str) -> Entered {
        let mut st = self.lock();
        let subjects: Vec<String> = st
            .in_flight
            .now
            .keys()
            .filter(|s| target.contains(s.as_str()))
            .cloned()
            .collect();
        for s in &subjects {
            let n = st.in_flight.now.entry(s.clone()).or_insert(0);
            *n += 1;
            let n = *n;
            let m = st.in_flight.max.entry(s.clone()).or_insert(0);
            *m = (*m).max(n);
        }
        Entered {
            faults: self.clone(),
            subjects,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overlapping_requests_about_one_subject_raise_its_maximum_only() {
        let f = Faults::new();
        f.track_in_flight("inc-1");
        f.track_in_flight("inc-2");
        let a = f.enter("/api/now/table/incident/inc-1");
        let b = f.enter("/api/now/attachment/file?table_sys_id=inc-1");
        drop(a);
        drop(b);
        let _c = f.enter("/api/now/table/incident/inc-2");
        let _d = f.enter("/other");
        assert_eq!(f.max_in_flight("inc-1"), 2);
        assert_eq!(f.max_in_flight("inc-2"), 1);
        assert_eq!(f.max_in_flight("never"), 0);
    }
}
