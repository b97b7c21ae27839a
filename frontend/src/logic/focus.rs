//! Keyboard focus inside a modal dialog: Tab and Shift+Tab go round its own controls and never
//! out to the page behind it.

/// Where Tab should send focus instead of the browser's own move, among a dialog's `count`
/// focusable elements in document order, when the one at `current` has focus (`None`: focus
/// is outside them); `backwards` for Shift+Tab.
///
/// `Some(index)` at the edges (from the last forwards to the first, from the first backwards to
/// the last) and from outside; `None` where the browser's next stop is inside the dialog
/// anyway, or there is nothing to focus.
pub fn wrapped_tab_target(count: usize, current: Option<usize>, backwards: bool) -> Option<usize> {
    let last = count.checked_sub(1)?;
    match (current, backwards) {
        (None, false) => Some(0),
        (None | Some(0), true) => Some(last),
        (Some(i), false) if i >= last => Some(0),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tab_wraps_at_the_edges_only() {
        assert_eq!(wrapped_tab_target(3, Some(0), false), None);
        assert_eq!(wrapped_tab_target(3, Some(1), false), None);
        assert_eq!(wrapped_tab_target(3, Some(2), false), Some(0));
        assert_eq!(wrapped_tab_target(3, Some(2), true), None);
        assert_eq!(wrapped_tab_target(3, Some(1), true), None);
        assert_eq!(wrapped_tab_target(3, Some(0), true), Some(2));
    }

    #[test]
    fn tab_from_outside_enters_the_dialog() {
        assert_eq!(wrapped_tab_target(3, None, false), Some(0));
        assert_eq!(wrapped_tab_target(3, None, true), Some(2));
    }

    #[test]
    fn a_single_control_keeps_focus_and_none_needs_nothing() {
        assert_eq!(wrapped_tab_target(1, Some(0), false), Some(0));
        assert_eq!(wrapped_tab_target(1, Some(0), true), Some(0));
        assert_eq!(wrapped_tab_target(0, None, false), None);
        assert_eq!(wrapped_tab_target(0, None, true), None);
    }
}
