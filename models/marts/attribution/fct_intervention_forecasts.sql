-- What each intervention type is forecast to do for each group of the latest snapshot:
-- the relative effect on its members' activity with a 90% interval, the expected
-- contribution to DAU and posts per day, and the features that drive the forecast (the
-- Python step intervention_forecasts: a shrinkage meta-regression of the past
-- interventions' attributed effects on group features; docs/planning.md "What will
-- this activity do here?").
with

forecasts as (
    select * from {{ ref('stg_forecasts__intervention_forecasts') }}
),

final as (
    select
        community_id,
        group_kind,
        snapshot_date,
        intervention_type,
        predicted_effect,
        effect_ci_low,
        effect_ci_high,
        expected_dau_contribution,
        expected_posts_per_day_contribution,
        top_features,
        n_training_interventions,
        model_version,
    from forecasts
)

select * from final
