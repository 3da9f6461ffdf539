-- Retention of sign-up-week cohorts, split by whether the user joined a declared group
-- within var('member_within_days') days of signing up. One row per cohort, segment and
-- retention period: day_1 (active the day after sign-up), day_7 / day_30 / day_90
-- (active in the 7 days starting that many days after sign-up) and week_0 .. week_12
-- (active in that week after sign-up). Each rate comes with a 95% Wilson interval, and
-- is_complete says whether the whole period has passed for every user of the cohort.
-- Cohorts start on the first day with events (earlier sign-ups are left-censored).
with

users as (
    select * from {{ ref('dim_users') }}
),

activity as (
    select * from {{ ref('fct_user_activity_daily') }}
),

memberships as (
    select * from {{ ref('stg_product__group_memberships') }}
),

data_span as (
    select
        min(activity_date) as first_date,
        max(activity_date) as last_date
    from activity
),

early_members as (
    select distinct memberships.user_id
    from memberships
    inner join users on memberships.user_id = users.user_id
    where
        memberships.joined_at
        < {{ add_days('users.signed_up_at', var('member_within_days')) }}
),

cohort_users as (
    select
        users.user_id,
        users.signup_date,
        cast(date_trunc('week', users.signup_date) as date) as cohort_week_start_date,
        case
            when early_members.user_id is not null then 'group_member' else 'non_member'
        end as membership_segment
    from users
    left join early_members on users.user_id = early_members.user_id
    -- Users who signed up before the first day of events have no observed first weeks:
    -- their cohorts would look falsely unretained early and falsely loyal later.
    where users.signup_date >= (select data_span.first_date from data_span)
),

periods as (
    -- Period name, first and last day after sign-up that count as retained.
    -- The values' columns are named: DuckDB calls them col0.., Spark col1...
    select
        fixed_periods.retention_period,
        fixed_periods.first_day_offset,
        fixed_periods.last_day_offset
    from (
        values
        ('day_1', 1, 1),
        ('day_7', 7, 13),
        ('day_30', 30, 36),
        ('day_90', 90, 96)
    ) as fixed_periods (retention_period, first_day_offset, last_day_offset)
    union all
    select
        'week_' || weeks.week_number as retention_period,
        cast(7 * weeks.week_number as integer) as first_day_offset,
        cast(7 * weeks.week_number + 6 as integer) as last_day_offset
    from (
        values
        (0), (1), (2), (3), (4), (5), (6), (7), (8), (9), (10), (11), (12)
    ) as weeks (week_number)
),

retained_periods as (
    -- The periods in which each user was active (a join, not an EXISTS in the select
    -- list: Spark takes EXISTS only in a filter).
    select distinct
        cohort_users.user_id,
        periods.retention_period
    from cohort_users
    cross join periods
    inner join activity
        on
            cohort_users.user_id = activity.user_id
            and activity.activity_date
            between cohort_users.signup_date + periods.first_day_offset
            and cohort_users.signup_date + periods.last_day_offset
),

user_periods as (
    select
        cohort_users.*,
        periods.retention_period,
        periods.first_day_offset,
        periods.last_day_offset,
        retained_periods.user_id is not null as is_retained
    from cohort_users
    cross join periods
    left join retained_periods
        on
            cohort_users.user_id = retained_periods.user_id
            and periods.retention_period = retained_periods.retention_period
),

aggregated as (
    select
        user_periods.cohort_week_start_date,
        user_periods.membership_segment,
        user_periods.retention_period,
        min(user_periods.first_day_offset) as first_day_offset,
        min(user_periods.last_day_offset) as last_day_offset,
        count(*) as count_cohort_users,
        count(*) filter (where user_periods.is_retained) as count_retained_users,
        -- Complete when the period has ended for the cohort's last sign-up day.
        max(user_periods.signup_date) + min(user_periods.last_day_offset)
        <= (select data_span.last_date from data_span) as is_complete
    from user_periods
    group by all
),

final as (
    select
        *,
        count_retained_users / count_cohort_users as retention_rate,
        -- Wilson score interval, z = 1.96 (clamped: float error must not push it past
        -- the rate or outside [0, 1] when nobody or everybody was retained). power(),
        -- not ^ (a bitwise XOR on Spark).
        greatest(0.0, least(count_retained_users / count_cohort_users, (
            count_retained_users / count_cohort_users + power(1.96, 2) / (2 * count_cohort_users)
            - 1.96 * sqrt(
                (count_retained_users / count_cohort_users)
                * (1 - count_retained_users / count_cohort_users) / count_cohort_users
                + power(1.96, 2) / (4 * power(count_cohort_users, 2))
            )
        ) / (1 + power(1.96, 2) / count_cohort_users))) as retention_rate_ci_low,
        least(1.0, greatest(count_retained_users / count_cohort_users, (
            count_retained_users / count_cohort_users + power(1.96, 2) / (2 * count_cohort_users)
            + 1.96 * sqrt(
                (count_retained_users / count_cohort_users)
                * (1 - count_retained_users / count_cohort_users) / count_cohort_users
                + power(1.96, 2) / (4 * power(count_cohort_users, 2))
            )
        ) / (1 + power(1.96, 2) / count_cohort_users))) as retention_rate_ci_high
    from aggregated
)

select * from final
