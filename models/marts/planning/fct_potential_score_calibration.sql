-- What the groups of each decile of the potential score did over the next 4 weeks,
-- out of time (the Python step potential_score: each past snapshot scored by the
-- weights fitted before it): the expected member growth of a group ranked in that
-- decile now, with the 90% interval of the groups' outcomes.
with

calibration as (
    select * from {{ ref('stg_planning__potential_score_calibration') }}
),

final as (
    select
        score_decile,
        n_rows,
        n_snapshots,
        expected_growth,
        median_growth,
        growth_low,
        growth_high,
        interval_level,
        weight_basis,
        test_start,
        test_end,
    from calibration
)

select * from final
order by score_decile
