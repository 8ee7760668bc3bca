"""Study insights: exam dates, available hours, the day-by-day plan and FSRS retention."""
