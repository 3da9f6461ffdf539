-- The out-of-time backtest of the potential score (the Python step potential_score):
-- per score (the fitted score as the report uses it, the seed's score, the naive
-- baselines), its rank correlation with the next 4 weeks' member growth and its top
-- decile's lift over the median, averaged over the test snapshots, with 95%
-- moving-block bootstrap intervals.
with

backtest as (
    select * from {{ ref('stg_planning__potential_score_backtest') }}
),

final as (
    select * from backtest
)

select * from final
order by rank_correlation desc nulls last, score asc
