//! Rating systems (from `skillratings`) behind one shape: a [`Skill`] per
//! player, updated from a game's placements, and widened by inactivity.
//!
//! - Weng-Lin (OpenSkill), the default: any number of players, draws and
//!   shared places.
//! - Glicko-2: made for 1v1; a game of more players counts as a rating
//!   period of pairwise results (each player against every other).
//!
//! Both are shown on the familiar 1500 scale: Weng-Lin's `mu`/`sigma`
//! (25 and 25/3 at first) times 60, Glicko-2 as it is (1500 and 350).

use serde::{Deserialize, Serialize};
use skillratings::glicko2::{Glicko2Config, Glicko2Rating, glicko2_rating_period};
use skillratings::weng_lin::{WengLinConfig, WengLinRating, weng_lin_multi_team};
use skillratings::{MultiTeamOutcome, Outcomes};

/// Weng-Lin's values are shown times this (25 → 1500).
const WENG_LIN_SCALE: f64 = 60.0;
const WENG_LIN_START_SIGMA: f64 = 25.0 / 3.0;
const GLICKO2_START_DEVIATION: f64 = 350.0;
const GLICKO2_SCALE: f64 = 173.7178;
const DAY_MS: u64 = 86_400_000;

/// Which system rates a queue's games (`rating_system` in the queue config).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RatingSystem {
    #[default]
    WengLin,
    Glicko2,
}

/// One player's skill in one system.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "system", rename_all = "snake_case")]
pub enum Skill {
    WengLin { mu: f64, sigma: f64 },
    Glicko2 { rating: f64, deviation: f64, volatility: f64 },
}

impl RatingSystem {
    /// A new player's skill.
    pub fn initial(self) -> Skill {
        match self {
            RatingSystem::WengLin => {
                let r = WengLinRating::new();
                Skill::WengLin { mu: r.rating, sigma: r.uncertainty }
            }
            RatingSystem::Glicko2 => {
                let r = Glicko2Rating::new();
                Skill::Glicko2 { rating: r.rating, deviation: r.deviation, volatility: r.volatility }
            }
        }
    }

    /// New skills after one game. `players[i]` finished in place
    /// `places[i]` (1 = first; equal places are a draw between them).
    pub fn rate(self, players: &[Skill], places: &[usize]) -> Vec<Skill> {
        debug_assert_eq!(players.len(), places.len());
        match self {
            RatingSystem::WengLin => {
                let teams: Vec<[WengLinRating; 1]> = players.iter().map(|s| [s.as_weng_lin()]).collect();
                let ranked: Vec<(&[WengLinRating], MultiTeamOutcome)> =
                    teams.iter().zip(places).map(|(team, place)| (&team[..], MultiTeamOutcome::new(*place))).collect();
                weng_lin_multi_team(&ranked, &WengLinConfig::new())
                    .into_iter()
                    .map(|team| Skill::WengLin { mu: team[0].rating, sigma: team[0].uncertainty })
                    .collect()
            }
            RatingSystem::Glicko2 => {
                let ratings: Vec<Glicko2Rating> = players.iter().map(Skill::as_glicko2).collect();
                (0..ratings.len())
                    .map(|i| {
                        let results: Vec<(Glicko2Rating, Outcomes)> = (0..ratings.len())
                            .filter(|&j| j != i)
                            .map(|j| {
                                let outcome = match places[i].cmp(&places[j]) {
                                    std::cmp::Ordering::Less => Outcomes::WIN,
                                    std::cmp::Ordering::Greater => Outcomes::LOSS,
                                    std::cmp::Ordering::Equal => Outcomes::DRAW,
                                };
                                (ratings[j], outcome)
                            })
                            .collect();
                        let r = glicko2_rating_period(&ratings[i], &results, &Glicko2Config::new());
                        Skill::Glicko2 { rating: r.rating, deviation: r.deviation, volatility: r.volatility }
                    })
                    .collect()
            }
        }
    }
}

impl Skill {
    /// The skill estimate, on the 1500 scale: what matchmaking compares.
    pub fn rating(&self) -> f64 {
        match *self {
            Skill::WengLin { mu, .. } => mu * WENG_LIN_SCALE,
            Skill::Glicko2 { rating, .. } => rating,
        }
    }

    /// How unsure the estimate is, on the same scale.
    pub fn deviation(&self) -> f64 {
        match *self {
            Skill::WengLin { sigma, .. } => sigma * WENG_LIN_SCALE,
            Skill::Glicko2 { deviation, .. } => deviation,
        }
    }

    /// What the ladder sorts by: the rating less twice its deviation, so a
    /// lucky newcomer does not top a board after two games.
    pub fn conservative(&self) -> f64 {
        self.rating() - 2.0 * self.deviation()
    }

    /// The skill after `idle_ms` without a game: the estimate stays, its
    /// uncertainty grows (Weng-Lin: by a newcomer's variance per year away;
    /// Glicko-2: by its volatility per day, as its rating periods do),
    /// never past a newcomer's.
    pub fn after_idle(self, idle_ms: u64) -> Skill {
        let days = (idle_ms / DAY_MS) as f64;
        if days == 0.0 {
            return self;
        }
        match self {
            Skill::WengLin { mu, sigma } => {
                let per_day = WENG_LIN_START_SIGMA * WENG_LIN_START_SIGMA / 365.0;
                Skill::WengLin { mu, sigma: (sigma * sigma + days * per_day).sqrt().min(WENG_LIN_START_SIGMA) }
            }
            Skill::Glicko2 { rating, deviation, volatility } => {
                let phi = deviation / GLICKO2_SCALE;
                let widened = (phi * phi + days * volatility * volatility).sqrt() * GLICKO2_SCALE;
                Skill::Glicko2 { rating, deviation: widened.min(GLICKO2_START_DEVIATION), volatility }
            }
        }
    }

    fn as_weng_lin(&self) -> WengLinRating {
        match *self {
            Skill::WengLin { mu, sigma } => WengLinRating { rating: mu, uncertainty: sigma },
            // Never mixed on one board; a board keeps one system.
            other => WengLinRating {
                rating: other.rating() / WENG_LIN_SCALE,
                uncertainty: other.deviation() / WENG_LIN_SCALE,
            },
        }
    }

    fn as_glicko2(&self) -> Glicko2Rating {
        match *self {
            Skill::Glicko2 { rating, deviation, volatility } => Glicko2Rating { rating, deviation, volatility },
            other => Glicko2Rating { rating: other.rating(), deviation: other.deviation(), volatility: 0.06 },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_winner_gains_what_the_loser_loses_in_both_systems() {
        for system in [RatingSystem::WengLin, RatingSystem::Glicko2] {
            let new = system.initial();
            let after = system.rate(&[new, new], &[1, 2]);
            assert!(after[0].rating() > 1500.0 && after[1].rating() < 1500.0, "{system:?}: {after:?}");
            assert!((after[0].rating() - 1500.0 - (1500.0 - after[1].rating())).abs() < 1e-6, "{system:?}: symmetric");
            assert!(after[0].deviation() < new.deviation(), "{system:?}: a game makes it surer");
        }
    }

    #[test]
    fn a_draw_between_equals_changes_no_rating_and_three_players_rank_in_order() {
        for system in [RatingSystem::WengLin, RatingSystem::Glicko2] {
            let new = system.initial();
            let drawn = system.rate(&[new, new], &[1, 1]);
            assert!((drawn[0].rating() - 1500.0).abs() < 1e-6, "{system:?}: {drawn:?}");
            let three = system.rate(&[new, new, new], &[2, 1, 3]);
            assert!(
                three[1].rating() > three[0].rating() && three[0].rating() > three[2].rating(),
                "{system:?}: {three:?}"
            );
        }
    }

    #[test]
    fn uncertainty_grows_with_time_away_up_to_a_newcomers() {
        for system in [RatingSystem::WengLin, RatingSystem::Glicko2] {
            let new = system.initial();
            let mut skill = new;
            for _ in 0..30 {
                let opponent = system.initial();
                skill = system.rate(&[skill, opponent], &[1, 2])[0];
            }
            let settled = skill.deviation();
            assert_eq!(skill.after_idle(DAY_MS - 1), skill, "less than a day: unchanged");
            let month = skill.after_idle(30 * DAY_MS);
            assert!(month.deviation() > settled && month.rating() == skill.rating(), "{system:?}: {month:?}");
            assert!(skill.after_idle(100_000 * DAY_MS).deviation() <= new.deviation() + 1e-9, "{system:?}: capped");
        }
    }
}
