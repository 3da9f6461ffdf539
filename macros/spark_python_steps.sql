{% macro register_python_step_tables() -%}
    {#-
        on-run-start of the spark target: the tables the Python steps wrote as Parquet
        beside Spark (orchestration/lib/warehouse/parquet_bridge.py, one folder per
        table under SMALLGROUPS_PYTHON_STEPS_PARQUET_DIR) become external tables
        <schema>.<table> of their dbt source, so source('communities', ...) and
        source('kpi', ...) resolve on Spark as the steps' DuckDB tables do. Like
        register_raw_parquet_tables, and only when the variable is set: before the steps
        (selector spark_before_steps) there is nothing to register yet. Only the step
        sources that a selected node reads: a phase runs after the steps it reads, not
        after every step (spark_after_steps reads the community tables, before the
        inflection step has written its table). Renders nothing on DuckDB, where the
        steps write into the warehouse.
    -#}
    {%- set root = env_var('SMALLGROUPS_PYTHON_STEPS_PARQUET_DIR', '') -%}
    {%- if execute and target.type == 'spark' and root -%}
        {%- set read = [] -%}
        {%- for unique_id in selected_resources -%}
            {%- set node = graph.nodes.get(unique_id) -%}
            {%- if node -%}
                {%- do read.extend(node.depends_on.nodes) -%}
            {%- endif -%}
        {%- endfor -%}
        {%- set step_sources = graph.sources.values()
            | selectattr('source_name', 'in', var('python_step_sources'))
            | selectattr('unique_id', 'in', read)
            | sort(attribute='identifier') -%}
        {%- for schema_name in step_sources | map(attribute='schema') | unique -%}
            {%- do run_query('create database if not exists `' ~ schema_name ~ '`') -%}
        {%- endfor -%}
        {%- for step_source in step_sources -%}
            {%- set relation = '`' ~ step_source.schema ~ '`.`' ~ step_source.identifier ~ '`' -%}
            {%- do run_query('drop table if exists ' ~ relation) -%}
            {%- do run_query(
                'create table ' ~ relation ~ ' using parquet location \''
                ~ root ~ '/' ~ step_source.identifier ~ '\''
            ) -%}
        {%- endfor -%}
    {%- endif -%}
{%- endmacro %}

{% macro export_python_step_inputs(out_dir, step) -%}
    {#-
        dbt run-operation export_python_step_inputs --args '{out_dir: DIR, step: NAME}'
        on the spark target: the models the Python step NAME reads (var
        python_step_input_models[NAME], the step's store.INPUT_MODELS) written as
        Parquet, one folder per model (<out_dir>/<model>/part-*.parquet), the input of
        python -m orchestration.lib.warehouse.parquet_bridge NAME. A folder is replaced
        whole.
    -#}
    {%- if target.type != 'spark' -%}
        {{ exceptions.raise_compiler_error(
            'export_python_step_inputs is for the spark target: on DuckDB the steps read the warehouse'
        ) }}
    {%- endif -%}
    {%- set steps = var('python_step_input_models') -%}
    {%- if step not in steps -%}
        {{ exceptions.raise_compiler_error(
            'export_python_step_inputs: no step ' ~ step ~ ' (var python_step_input_models has '
            ~ steps.keys() | sort | join(', ') ~ ')'
        ) }}
    {%- endif -%}
    {%- for model_name in steps[step] -%}
        {%- do run_query(
            'insert overwrite directory \'' ~ out_dir ~ '/' ~ model_name ~ '\' using parquet '
            ~ 'select * from `' ~ target.schema ~ '`.`' ~ model_name ~ '`'
        ) -%}
        {{ log('exported ' ~ model_name ~ ' to ' ~ out_dir ~ '/' ~ model_name, info=true) }}
    {%- endfor -%}
{%- endmacro %}
